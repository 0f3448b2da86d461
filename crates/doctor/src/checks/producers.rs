//! Who built it (producers and name sections) and which network stacks are linked in.

use crate::inspect::Facts;
use crate::stack::{Network, Toolchain};
use crate::{Context, Finding, Severity};

pub(crate) fn check(f: &Facts, _: &Context) -> Vec<Finding> {
    let tool = Toolchain::detect(f);
    let net = Network::detect(f, &tool);
    let mut stacks = Vec::new();
    if net.tinygo_netdev {
        // net/http always links TinyGo's `net`; with a transport it is dead weight, not
        // a problem, and the line must not read like one.
        stacks.push(if net.wasi_http {
            "TinyGo's netdev-based `net` (net/http links it in; requests sent through wasi:http do not use it)"
        } else if net.abi {
            "TinyGo's netdev-based `net` (net/http links it in; requests sent through the wasmgate host ABI do not use it)"
        } else {
            "TinyGo's netdev-based `net` (needs a network device driver)"
        });
    }
    if net.go_net_http {
        stacks.push("Go's net/http");
    }
    if net.go_transport {
        stacks.push("wasmgate's Go transport (guest/go)");
    }
    if net.go_fake_net {
        stacks.push("Go's in-process fake network for wasip1 (`net.fakeNetFD`)");
    }
    if net.wasi_http {
        stacks.push("wasi:http outgoing-handler");
    }
    if net.abi {
        stacks.push("the wasmgate host ABI");
    }
    if net.wasi_sockets {
        stacks.push("wasi:sockets");
    }
    let mut lines = Vec::new();
    if f.producers.is_empty() {
        lines.push("Producers section: none (stripped, or the toolchain writes none).".to_string());
    } else {
        let entries: Vec<String> = f
            .producers
            .iter()
            .map(|p| {
                if p.version.is_empty() {
                    format!("{}: {}", p.field, p.name)
                } else {
                    format!("{}: {} {}", p.field, p.name, p.version)
                }
            })
            .collect();
        lines.push(format!("Producers section: {}.", entries.join("; ")));
    }
    lines.push(match f.function_names.len() {
        0 => "Name section: none (function names stripped).".to_string(),
        n => format!("Name section: {n} function names."),
    });
    lines.push(format!(
        "Network stacks linked in: {}.",
        if stacks.is_empty() {
            "none found".to_string()
        } else {
            stacks.join("; ")
        }
    ));
    let title = match tool.describe() {
        Some(t) => format!("Built by {t}"),
        None => "Toolchain not recognised".to_string(),
    };
    vec![Finding::new(
        "toolchain",
        Severity::Info,
        title,
        lines.join("\n"),
    )]
}
