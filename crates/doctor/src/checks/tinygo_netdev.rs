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

/// What a TinyGo wasip2 program adds: the same transport, which on -target=wasip2 sends
/// through standard wasi:http, and the build contract of guest/go/README.md (the
/// module's WIT world `client` adds wasi:http to TinyGo's default command world;
/// without it componentizing fails on the wasi:http imports).
pub(crate) const WASIP2_FIX: &str = "Use wasmgate's Go transport (guest/go, package `wasmgate.dev/guest/go`) and keep -target=wasip2: there it sends through standard wasi:http, so the component also runs under other wasi:http hosts (`wasmtime run -S http`). In main.go:

    import wasmgate \"wasmgate.dev/guest/go\"

    func main() {
        wasmgate.Install() // sets http.DefaultClient's transport too: TinyGo's client ignores http.DefaultTransport
        ...
    }

In go.mod (until the module is published, point it at a checkout):

    require wasmgate.dev/guest/go v0.0.0
    replace wasmgate.dev/guest/go => ../path/to/wasmgate/guest/go

Then rebuild against the module's WIT world `client` (TinyGo's command world plus wasi:http; without -wit-package/-wit-world the build stops with \"module requires an import interface named `wasi:http/types@0.2.0`\") and run:

    tinygo build -target=wasip2 -wit-package ../path/to/wasmgate/guest/go/wit -wit-world client -o app.wasm .
    wasmgate run --allow https://api.example.com app.wasm";

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
