//! Component imports of a WASI version this host cannot link (0.3, pre-releases) or
//! may not be able to (a 0.2.x newer than the host's).

use super::list;
use crate::host::{InterfaceName, MAX_WASI_P2, P2_INTERFACES, Provision, provision};
use crate::inspect::Facts;
use crate::{Context, Finding, Severity};

/// What the host provides, for messages.
pub(crate) fn provided() -> String {
    let packages: Vec<&str> = P2_INTERFACES.iter().map(|(p, _)| *p).collect();
    format!(
        "This host (Wasmtime 48) provides wasi 0.2.0 to {MAX_WASI_P2} of {}: any 0.2.x import links to its {MAX_WASI_P2} implementation.",
        packages.join(", ")
    )
}

pub(crate) fn check(f: &Facts, _: &Context) -> Vec<Finding> {
    let mut wrong = Vec::new();
    let mut newer = Vec::new();
    for name in &f.component_imports {
        match provision(name) {
            Provision::WrongVersion => wrong.push(name.as_str()),
            Provision::NewerPatch => newer.push(name.as_str()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if !wrong.is_empty() {
        let versions: std::collections::BTreeSet<&str> = wrong
            .iter()
            .filter_map(|n| InterfaceName::parse(n))
            .map(|n| n.version_text.unwrap_or("(no version)"))
            .collect();
        let versions: Vec<&str> = versions.into_iter().collect();
        let pre = versions.iter().any(|v| v.contains('-'));
        let p3 = versions.iter().any(|v| v.starts_with("0.3"));
        let mut why = format!(
            "It imports {}: {}. {}",
            if wrong.len() == 1 {
                "an interface at a version".to_string()
            } else {
                format!("{} interfaces at versions", wrong.len())
            },
            list(&wrong, 12),
            provided()
        );
        if p3 {
            why.push_str(" wasi 0.3 (wasip3, async) is a different API that Wasmtime 48 does not link for wasmgate.");
        }
        if pre {
            why.push_str(
                " A pre-release (e.g. 0.2.0-rc-2023-11-10) is never compatible with a release.",
            );
        }
        out.push(
            Finding::new(
                "wasi-version-unsupported",
                Severity::Error,
                format!(
                    "Imports WASI {} that this host cannot provide: wasmgate run will fail to link",
                    versions.join(", ")
                ),
                why,
            )
            .fix("Rebuild against wasi 0.2.x: Rust `--target wasm32-wasip2` (not wasip3) with wasi/wit-bindgen crates for 0.2; TinyGo -target=wasip2; componentize-js/componentize-py/jco releases that target wasi 0.2 (0.2.0 or later, not a release candidate)."),
        );
    }
    if !newer.is_empty() {
        out.push(
            Finding::new(
                "wasi-version-newer",
                Severity::Warning,
                format!("Imports wasi 0.2 interfaces newer than this host's {MAX_WASI_P2}"),
                format!(
                    "{}: {}. Wasmtime links them to its {MAX_WASI_P2} implementation, which works as long as the guest uses nothing added after {MAX_WASI_P2}.",
                    provided(),
                    list(&newer, 12)
                ),
            )
            .fix(format!(
                "If `wasmgate run` reports a missing function, rebuild against wasi {MAX_WASI_P2} or older, or use a wasmgate built on a newer Wasmtime."
            )),
        );
    }
    out
}
