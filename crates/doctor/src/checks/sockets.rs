//! Socket imports: what wasmgate grants for them (nothing: sockets are denied; HTTP
//! goes through wasi:http or wasmgate's ABI).

use super::list;
use crate::host::{WASIP1_MODULE, WASIP1_SOCKET_FUNCTIONS};
use crate::inspect::Facts;
use crate::stack::{Network, Toolchain};
use crate::{Context, Finding, Severity};

pub(crate) fn check(f: &Facts, _: &Context) -> Vec<Finding> {
    let tool = Toolchain::detect(f);
    let net = Network::detect(f, &tool);
    let mut out = Vec::new();
    let sockets: Vec<&str> = f.component_imports_of("wasi:sockets").collect();
    if !sockets.is_empty() {
        let granted = "wasmgate links wasi:sockets so the component can start, but grants nothing through it: every TCP/UDP connect, bind and name lookup is refused.";
        // TinyGo's netdev finding already explains a TinyGo binary's network failure.
        out.push(if net.wasi_http || net.tinygo_netdev {
            Finding::new(
                "wasi-sockets",
                Severity::Info,
                "Imports wasi:sockets: linked, but every socket and name lookup is refused",
                format!(
                    "{granted} It imports {}. {}",
                    list(&sockets, 8),
                    if net.wasi_http {
                        "Its HTTP requests go through wasi:http, which the allow rules govern; only code that opens sockets directly is affected."
                    } else {
                        "The tinygo-netdev finding says how to give its HTTP requests a way out."
                    }
                ),
            )
        } else {
            Finding::new(
                "wasi-sockets",
                Severity::Warning,
                "Imports wasi:sockets but not wasi:http: its network access will be refused",
                format!(
                    "{granted} It imports {} and no wasi:http outgoing-handler, so any connection it opens fails (access denied) whatever the allow rules say.",
                    list(&sockets, 8)
                ),
            )
            .fix("Make HTTP requests through wasi:http: in Rust the `wstd` or `waki` crates, in Go a wasi:http transport, in JavaScript fetch() under componentize-js, in Python componentize-py's wasi:http bindings.")
        });
    }
    if let Some(m) = f.core() {
        let socks: Vec<&str> = m
            .imports
            .iter()
            .filter(|i| {
                i.module == WASIP1_MODULE && WASIP1_SOCKET_FUNCTIONS.contains(&i.name.as_str())
            })
            .map(|i| i.name.as_str())
            .collect();
        if !socks.is_empty() {
            out.push(Finding::new(
                "wasip1-sockets",
                Severity::Info,
                "Imports wasip1 socket functions: linked, but there is no socket to use",
                format!(
                    "It imports {}. In wasip1 they work only on sockets the host hands in at start; wasmgate hands in none, so they fail. HTTP goes through wasmgate's ABI.",
                    list(&socks, 8)
                ),
            ));
        }
    }
    out
}
