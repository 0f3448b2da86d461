//! TinyGo's `net/http` over netdev, with no transport wasmgate can carry: it fails at
//! the first request with `Netdev not set`.

use crate::inspect::Facts;
use crate::stack::{Network, Toolchain, is_wasip1};
use crate::{Context, Finding, Severity};

/// What a TinyGo wasip1 program adds to use wasmgate's Go transport (guest/go).
pub(crate) const WASIP1_FIX: &str = "Use wasmgate's Go transport (guest/go, package `wasmgate.dev/guest/go`) and keep -target=wasip1. In main.go:

    import wasmgate \"wasmgate.dev/guest/go\"

    func main() {
        wasmgate.Install() // http.Get, http.DefaultClient & co. now go through wasmgate
        ...
    }

In go.mod (until the module is published, point it at a checkout):

    require wasmgate.dev/guest/go v0.0.0
    replace wasmgate.dev/guest/go => ../path/to/wasmgate/guest/go

Then rebuild and run:

    tinygo build -target=wasip1 -o app.wasm .
    wasmgate run --allow https://api.example.com app.wasm";

const WASIP2_FIX: &str = "Set a wasi:http transport on the client TinyGo uses, e.g. go.bytecodealliance.org/x/wasihttp (TinyGo 0.34 or later):

    import \"go.bytecodealliance.org/x/wasihttp\"

    func main() {
        http.DefaultClient.Transport = &wasihttp.Transport{} // TinyGo's client ignores http.DefaultTransport
        ...
    }

Then rebuild: tinygo build -target=wasip2 -o app.wasm .
(Or build for -target=wasip1 and use wasmgate's Go transport, guest/go: import wasmgate \"wasmgate.dev/guest/go\" and call wasmgate.Install() first thing in main.)";

pub(crate) fn check(f: &Facts, _: &Context) -> Vec<Finding> {
    let tool = Toolchain::detect(f);
    let net = Network::detect(f, &tool);
    if !net.tinygo_netdev || net.can_http() {
        return Vec::new();
    }
    let wasip1 = is_wasip1(f);
    let explanation = format!(
        "TinyGo does not use the operating system's network: its `net` package sends every \
socket call to a \"netdev\", a network device driver the program must register (on \
microcontrollers, a WiFi chip's driver). Under WASI nothing registers one, so the first \
DNS lookup or connect returns the error `Netdev not set`{} This binary links that `net`{} \
and imports neither wasi:http nor wasmgate's ABI ({}), so it has no way out that wasmgate \
can carry, whatever --allow rules you give.",
        if net.go_net_http {
            " (and net/http then fails or aborts)."
        } else {
            "."
        },
        if net.go_net_http { " and net/http" } else { "" },
        crate::host::ABI_MODULE,
    );
    let finding = Finding::new(
        "tinygo-netdev",
        Severity::Error,
        "TinyGo net/http without a wasmgate or wasi:http transport: requests will fail with `Netdev not set`",
        explanation,
    );
    vec![finding.fix(if wasip1 { WASIP1_FIX } else { WASIP2_FIX })]
}
