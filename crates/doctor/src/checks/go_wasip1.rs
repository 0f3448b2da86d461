//! Mainline Go for wasip1 with `net/http` but without wasmgate's transport: its
//! requests go to Go's in-process fake network and fail with `connection refused`.

use crate::inspect::Facts;
use crate::stack::{Network, Toolchain};
use crate::{Context, Finding, Severity};

pub(crate) fn check(f: &Facts, _: &Context) -> Vec<Finding> {
    let tool = Toolchain::detect(f);
    let net = Network::detect(f, &tool);
    if !tool.is_go() || !net.go_net_http || net.can_http() {
        return Vec::new();
    }
    let explanation = "Under GOOS=wasip1 mainline Go has no real sockets: its `net` package \
uses an in-process fake network (`net.fakeNetFD`), so `http.Get` and friends fail with \
`dial tcp …: connect: connection refused` even though the server is listening, and nothing \
reaches wasmgate's policy. wasip1 has no way to open a connection; HTTP has to go through \
wasmgate's host ABI (wasmgate_http_v1), which this binary does not import.";
    let fix = "Add wasmgate's Go transport (guest/go) and call it first thing in main:

    import wasmgate \"wasmgate.dev/guest/go\"

    wasmgate.Install() // the one line: http.DefaultTransport and http.DefaultClient now use wasmgate

In go.mod (until the module is published, point it at a checkout):

    require wasmgate.dev/guest/go v0.0.0
    replace wasmgate.dev/guest/go => ../path/to/wasmgate/guest/go

Rebuild and run:

    GOOS=wasip1 GOARCH=wasm go build -o app.wasm .
    wasmgate run --allow https://api.example.com app.wasm";
    vec![
        Finding::new(
            "go-wasip1-net-http",
            Severity::Error,
            "Go net/http under wasip1 without wasmgate's transport: requests will fail with `connection refused`",
            explanation,
        )
        .fix(fix),
    ]
}
