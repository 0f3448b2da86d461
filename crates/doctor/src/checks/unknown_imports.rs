//! Imports nothing on the host side can satisfy: listed, with the likely cause.

use super::list;
use crate::host::{
    ABI_FUNCTIONS, ABI_MODULE, P2_INTERFACES, Provision, WASIP1_FUNCTIONS, WASIP1_MODULE, provision,
};
use crate::inspect::{Facts, Kind};
use crate::{Context, Finding, Severity};
use std::collections::BTreeMap;

/// WasmEdge's socket extension to wasi_snapshot_preview1 (wasmedge_wasi_socket).
const WASMEDGE_SOCKETS: &[&str] = &[
    "sock_open",
    "sock_bind",
    "sock_listen",
    "sock_connect",
    "sock_getaddrinfo",
    "sock_getlocaladdr",
    "sock_getpeeraddr",
    "sock_setsockopt",
    "sock_getsockopt",
    "sock_recv_from",
    "sock_send_to",
];

fn core_cause(module: &str, names: &[&str]) -> String {
    if module == WASIP1_MODULE {
        if names.iter().any(|n| WASMEDGE_SOCKETS.contains(n)) {
            return "WasmEdge's socket extension (wasmedge_wasi_socket, WasmEdge's tokio/reqwest forks): not part of WASI. wasmgate gives no sockets; make HTTP requests through wasmgate's ABI (docs/abi.md) instead.".into();
        }
        return "not part of WASI preview 1: a runtime-specific extension.".into();
    }
    if module == ABI_MODULE {
        return "not in wasmgate ABI version 1 (docs/abi.md): built against a newer or modified guest library?".into();
    }
    if module.starts_with("wasmgate_http_v") {
        return "another version of wasmgate's ABI; this host implements wasmgate_http_v1.".into();
    }
    if module == "wasi_unstable" {
        return "WASI snapshot 0 (`wasi_unstable`, before 2020): rebuild with a current toolchain for wasm32-wasip1.".into();
    }
    if module == "env" {
        return "undefined symbols the linker turned into imports (C/C++ linked with --allow-undefined, a missing library, or an Emscripten build): define them or link the library that does.".into();
    }
    if module.starts_with("wasi:") {
        return "a wasip2 interface imported by a core module: the module was never made into a component; run `wasm-tools component new app.wasm --adapt wasi_snapshot_preview1.command.wasm -o app.component.wasm`, or build with --target wasm32-wasip2.".into();
    }
    if module == "wasi_experimental_http" {
        return "Spin's/WAGI's old experimental HTTP API: use wasmgate's ABI (wasip1) or wasi:http (wasip2).".into();
    }
    if module.starts_with("extism:") || module == "spin" || module.starts_with("fermyon:") {
        return "the host API of another runtime (Extism or Spin): this is a plugin for that host, not a WASI program.".into();
    }
    if module == "__wbindgen_placeholder__" || module == "wbg" {
        return "wasm-bindgen output for browsers (wasm32-unknown-unknown): build for wasm32-wasip1 or wasm32-wasip2.".into();
    }
    if module == "go" || module == "gojs" {
        return "Go built with GOOS=js for browsers: build with GOOS=wasip1 GOARCH=wasm.".into();
    }
    "the host API of another runtime, or an undefined symbol.".into()
}

fn component_cause(name: &str) -> String {
    if name.starts_with("wasi:clocks/timezone") {
        return "an unstable WASI interface (clocks-timezone) Wasmtime does not link by default."
            .into();
    }
    if name.starts_with("wasi:") {
        let packages: Vec<&str> = P2_INTERFACES.iter().map(|(p, _)| *p).collect();
        return format!(
            "a WASI proposal or interface wasmgate does not provide (it provides {}); worlds of Spin or wasmCloud import such interfaces.",
            packages.join(", ")
        );
    }
    if name.starts_with("fermyon:spin") || name.starts_with("spin:") {
        return "Spin's host API: this is a Spin component; run it with Spin.".into();
    }
    "a custom import of the component's world: compose the component that provides it first (`wac plug`), or it is the API of another host.".into()
}

pub(crate) fn check(f: &Facts, _: &Context) -> Vec<Finding> {
    let mut lines = Vec::new();
    let mut count = 0;
    match f.kind {
        Kind::CoreModule => {
            let Some(m) = f.core() else { return Vec::new() };
            let mut by_module: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for i in &m.imports {
                let known = match i.module.as_str() {
                    WASIP1_MODULE => WASIP1_FUNCTIONS.contains(&i.name.as_str()),
                    ABI_MODULE => ABI_FUNCTIONS.contains(&i.name.as_str()),
                    _ => false,
                };
                let names = by_module.entry(&i.module).or_default();
                if !known && !names.contains(&i.name.as_str()) {
                    names.push(&i.name);
                }
            }
            for (module, names) in by_module.iter().filter(|(_, n)| !n.is_empty()) {
                count += names.len();
                lines.push(format!(
                    "- {module}: {}\n  likely cause: {}",
                    list(names, 12),
                    core_cause(module, names)
                ));
            }
        }
        Kind::Component => {
            for name in &f.component_imports {
                if matches!(
                    provision(name),
                    Provision::UnknownInterface | Provision::Foreign
                ) {
                    count += 1;
                    lines.push(format!(
                        "- {name}\n  likely cause: {}",
                        component_cause(name)
                    ));
                }
            }
        }
    }
    if count == 0 {
        return Vec::new();
    }
    vec![
        Finding::new(
            "unknown-imports",
            Severity::Error,
            format!(
                "{count} import{} nothing in wasmgate provides: wasmgate run will fail to link",
                if count == 1 { "" } else { "s" }
            ),
            format!(
                "wasmgate links WASI ({WASIP1_MODULE} for core modules, wasi 0.2 for components) and, for core modules, its HTTP ABI ({ABI_MODULE}); nothing else.\n{}",
                lines.join("\n")
            ),
        )
        .fix("Remove the dependency that needs these imports, or rebuild for plain WASI (see the likely cause of each)."),
    ]
}
