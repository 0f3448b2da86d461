//! What the file is: core module or component, what it imports and exports, and
//! whether `wasmgate run` can start it at all.

use super::list;
use crate::host::{ABI_FUNCTIONS, ABI_MODULE, ABI_VERSION, CLI_RUN, InterfaceName, WASIP1_MODULE};
use crate::inspect::{CoreModule, Facts, Kind};
use crate::{Context, Finding, Severity};
use std::collections::BTreeSet;

/// Exports worth naming: entry points and allocators.
const NOTABLE_EXPORTS: &[&str] = &[
    "_start",
    "_initialize",
    "malloc",
    "free",
    "cabi_realloc",
    "memory",
];

pub(crate) fn check(f: &Facts, _: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(why) = &f.invalid {
        out.push(
            Finding::new(
                "invalid-binary",
                Severity::Error,
                "The file parses but is not valid WebAssembly: wasmgate run will refuse it",
                format!("The validator says: {why}."),
            )
            .fix("Rebuild it with a current toolchain; if a post-processing tool (wasm-opt, a strip tool) touched it, try without."),
        );
    }
    match f.kind {
        Kind::CoreModule => core(f, &mut out),
        Kind::Component => component(f, &mut out),
    }
    out
}

fn core(f: &Facts, out: &mut Vec<Finding>) {
    let Some(m) = f.core() else { return };
    let wasi: Vec<&str> = names_from(m, WASIP1_MODULE);
    let abi: Vec<&str> = names_from(m, ABI_MODULE);
    let wasi_label = if wasi.is_empty() { "no WASI" } else { "wasip1" };
    let mut lines = Vec::new();
    lines.push(if wasi.is_empty() {
        "WASI imports: none.".to_string()
    } else {
        format!(
            "WASI imports ({WASIP1_MODULE}, {}): {}.",
            wasi.len(),
            list(&wasi, 12)
        )
    });
    if abi.is_empty() {
        lines.push(format!("wasmgate ABI imports ({ABI_MODULE}): none."));
    } else {
        lines.push(format!(
            "wasmgate ABI imports ({ABI_MODULE}, ABI version {ABI_VERSION}, {} of {} functions): {}.",
            abi.len(),
            ABI_FUNCTIONS.len(),
            list(&abi, 15)
        ));
    }
    let others: BTreeSet<&str> = m
        .imports
        .iter()
        .map(|i| i.module.as_str())
        .filter(|&module| module != WASIP1_MODULE && module != ABI_MODULE)
        .collect();
    if !others.is_empty() {
        lines.push(format!(
            "Other import modules: {}.",
            list(&others.into_iter().collect::<Vec<_>>(), 10)
        ));
    }
    let notable: Vec<&str> = NOTABLE_EXPORTS
        .iter()
        .copied()
        .filter(|e| m.exports(e))
        .collect();
    lines.push(format!(
        "Notable exports: {}.",
        if notable.is_empty() {
            "none".to_string()
        } else {
            notable.join(", ")
        }
    ));
    out.push(Finding::new(
        "kind",
        Severity::Info,
        format!(
            "Core module ({wasi_label}{}), {}, {}",
            if abi.is_empty() {
                ""
            } else {
                " + wasmgate ABI"
            },
            plural(m.imports.len(), "import"),
            plural(m.exports.len(), "export")
        ),
        lines.join("\n"),
    ));
    if !m.exports("_start") {
        let (what, fix) = if m.exports("_initialize") {
            (
                "It exports `_initialize`: it is a reactor (library) module, meant to be called by a host, not run.",
                "Build it as a command (a program with `main`): Rust `--bin`, Go without `-buildmode=c-shared`, TinyGo `-buildmode=default`, C without `-mexec-model=reactor`.",
            )
        } else {
            (
                "It has no entry point at all.",
                "Build it as a WASI command (a program with `main`) for wasm32-wasip1.",
            )
        };
        out.push(
            Finding::new(
                "no-start",
                Severity::Error,
                "No `_start` export: wasmgate run cannot execute it",
                format!("wasmgate runs WASI commands: it calls `_start`. {what}"),
            )
            .fix(fix),
        );
    }
}

fn names_from<'a>(m: &'a CoreModule, module: &str) -> Vec<&'a str> {
    let mut seen = BTreeSet::new();
    m.imports
        .iter()
        .filter(|i| i.module == module)
        .map(|i| i.name.as_str())
        .filter(|n| seen.insert(*n))
        .collect()
}

fn component(f: &Facts, out: &mut Vec<Finding>) {
    let versions: BTreeSet<String> = f
        .component_imports
        .iter()
        .chain(&f.component_exports)
        .filter_map(|n| InterfaceName::parse(n))
        .filter(|n| n.package.starts_with("wasi:"))
        .filter_map(|n| n.version_text.map(|v| format!("{}@{v}", n.package)))
        .collect();
    let imports: Vec<&str> = f.component_imports.iter().map(String::as_str).collect();
    let exports: Vec<&str> = f.component_exports.iter().map(String::as_str).collect();
    let wasi = if versions.is_empty() {
        "no WASI".to_string()
    } else {
        let v: BTreeSet<&str> = versions
            .iter()
            .filter_map(|p| p.split_once('@').map(|(_, v)| v))
            .collect();
        format!("wasi {}", v.into_iter().collect::<Vec<_>>().join(" + "))
    };
    let explanation = format!(
        "WASI packages: {}.\nWorld imports ({}): {}.\nWorld exports ({}): {}.\nNested core modules: {}.",
        if versions.is_empty() {
            "none".to_string()
        } else {
            versions.iter().cloned().collect::<Vec<_>>().join(", ")
        },
        imports.len(),
        if imports.is_empty() {
            "none".to_string()
        } else {
            list(&imports, 40)
        },
        exports.len(),
        if exports.is_empty() {
            "none".to_string()
        } else {
            list(&exports, 40)
        },
        f.modules.len()
    );
    out.push(Finding::new(
        "kind",
        Severity::Info,
        format!(
            "Component (wasip2, {wasi}), {}, {}",
            plural(imports.len(), "import"),
            plural(exports.len(), "export")
        ),
        explanation,
    ));
    let runs = f
        .component_exports
        .iter()
        .any(|e| e.starts_with(CLI_RUN) && e[CLI_RUN.len()..].starts_with('@'));
    if !runs {
        let server = f
            .component_exports
            .iter()
            .any(|e| e.starts_with("wasi:http/incoming-handler"));
        let (why, fix) = if server {
            (
                "It exports `wasi:http/incoming-handler`: it is an HTTP server (the wasi:http proxy world) that waits for requests; wasmgate runs commands (the wasi:cli command world), which start, do their work and exit.",
                "Serve it with a host for the proxy world (`wasmtime serve`, Spin), or build a command: a program with `main` for wasm32-wasip2 (Rust `--bin`, componentize-py/jco with the `wasi:cli/command` world).",
            )
        } else {
            (
                "wasmgate runs components of the wasi:cli command world: it calls their `wasi:cli/run` export.",
                "Build it as a command: a program with `main` for wasm32-wasip2, or target the `wasi:cli/command` world.",
            )
        };
        out.push(
            Finding::new(
                "not-a-command",
                Severity::Error,
                "No `wasi:cli/run` export: wasmgate run cannot execute this component",
                why,
            )
            .fix(fix),
        );
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}
