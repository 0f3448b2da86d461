//! Rendering: a human report (summary line, then findings with their fixes) and the
//! JSON document whose schema `docs/doctor.md` documents (`schema_version` 1).

use crate::host::{MAX_WASI_P2, WASIP1_MODULE};
use crate::inspect::{Facts, Kind};
use crate::stack::{Network, Toolchain};
use crate::{Finding, Severity};
use serde::Serialize;

/// The JSON schema version. Bump it only for changes that break readers (removing
/// or renaming a field, changing a type); adding a field or a finding id does not.
pub const SCHEMA_VERSION: u32 = 1;

/// Prose is wrapped at this width in the human report; indented code lines are not.
const WRAP: usize = 92;

/// One import or export, for JSON.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Item {
    /// Core modules: the import module (null for exports and components).
    pub module: Option<String>,
    /// The item name, or the component import/export name.
    pub name: String,
}

/// What the file is, in short.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ModuleSummary {
    /// `core-module` or `component`.
    pub kind: &'static str,
    /// E.g. `TinyGo 0.33.0`; null when not recognised.
    pub toolchain: Option<String>,
    /// WASI flavours imported: `wasip1`, or `wasi:PKG@VERSION` entries.
    pub wasi: Vec<String>,
    /// Network stacks found: `wasi-http`, `wasmgate-abi`, `go-net-http`,
    /// `wasmgate-go-transport`, `tinygo-netdev`, `go-fake-net`, `wasi-sockets`.
    pub network: Vec<&'static str>,
    /// Imports: a core module's own, or a component's world imports.
    pub imports: Vec<Item>,
    /// Exports: a core module's own, or a component's world exports.
    pub exports: Vec<Item>,
    /// Producers entries.
    pub producers: Vec<ProducerEntry>,
}

/// A producers entry, for JSON.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProducerEntry {
    /// `language`, `processed-by` or `sdk`.
    pub field: String,
    /// Tool or language.
    pub name: String,
    /// Version as written.
    pub version: String,
}

impl ModuleSummary {
    fn of(f: &Facts) -> Self {
        let tool = Toolchain::detect(f);
        let net = Network::detect(f, &tool);
        let mut network = Vec::new();
        for (on, id) in [
            (net.wasi_http, "wasi-http"),
            (net.abi, "wasmgate-abi"),
            (net.go_net_http, "go-net-http"),
            (net.go_transport, "wasmgate-go-transport"),
            (net.tinygo_netdev, "tinygo-netdev"),
            (net.go_fake_net, "go-fake-net"),
            (net.wasi_sockets, "wasi-sockets"),
        ] {
            if on {
                network.push(id);
            }
        }
        let (kind, wasi, imports, exports) = match (f.kind, f.core()) {
            (Kind::CoreModule, Some(m)) => (
                "core-module",
                if m.imports_module(WASIP1_MODULE) {
                    vec!["wasip1".to_string()]
                } else {
                    Vec::new()
                },
                m.imports
                    .iter()
                    .map(|i| Item {
                        module: Some(i.module.clone()),
                        name: i.name.clone(),
                    })
                    .collect(),
                m.exports
                    .iter()
                    .map(|e| Item {
                        module: None,
                        name: e.name.clone(),
                    })
                    .collect(),
            ),
            _ => {
                let mut wasi: Vec<String> = f
                    .component_imports
                    .iter()
                    .chain(&f.component_exports)
                    .filter_map(|n| crate::host::InterfaceName::parse(n))
                    .filter(|n| n.package.starts_with("wasi:"))
                    .filter_map(|n| n.version_text.map(|v| format!("{}@{v}", n.package)))
                    .collect();
                wasi.sort();
                wasi.dedup();
                let items = |names: &[String]| {
                    names
                        .iter()
                        .map(|n| Item {
                            module: None,
                            name: n.clone(),
                        })
                        .collect()
                };
                (
                    "component",
                    wasi,
                    items(&f.component_imports),
                    items(&f.component_exports),
                )
            }
        };
        Self {
            kind,
            toolchain: tool.describe(),
            wasi,
            network,
            imports,
            exports,
            producers: f
                .producers
                .iter()
                .map(|p| ProducerEntry {
                    field: p.field.clone(),
                    name: p.name.clone(),
                    version: p.version.clone(),
                })
                .collect(),
        }
    }

    /// `core module (wasip1), built by TinyGo 0.33.0`.
    fn headline(&self) -> String {
        let kind = match self.kind {
            "core-module" => {
                if self.wasi.is_empty() {
                    "core module".to_string()
                } else {
                    "core module (wasip1)".to_string()
                }
            }
            _ => {
                let mut versions: Vec<&str> = self
                    .wasi
                    .iter()
                    .filter_map(|w| w.split_once('@').map(|(_, v)| v))
                    .collect();
                versions.sort();
                versions.dedup();
                if versions.is_empty() {
                    "component".to_string()
                } else {
                    format!("component (wasi {})", versions.join(" + "))
                }
            }
        };
        match &self.toolchain {
            Some(t) => format!("{kind}, built by {t}"),
            None => kind,
        }
    }
}

/// The outcome of `diagnose`: what the file is and the findings, errors first.
#[derive(Debug, Clone)]
pub struct Report {
    /// None when the file could not be read as WebAssembly at all.
    pub module: Option<ModuleSummary>,
    /// Every finding, errors first.
    pub findings: Vec<Finding>,
}

#[derive(Serialize)]
struct Counts {
    error: usize,
    warning: usize,
    info: usize,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    file: &'a str,
    ok: bool,
    counts: Counts,
    host: JsonHost,
    module: Option<&'a ModuleSummary>,
    findings: &'a [Finding],
}

#[derive(Serialize)]
struct JsonHost {
    wasip1: bool,
    abi: &'static str,
    wasi_p2_max: String,
}

impl Report {
    pub(crate) fn new(facts: Option<Facts>, findings: Vec<Finding>) -> Self {
        Self {
            module: facts.as_ref().map(ModuleSummary::of),
            findings,
        }
    }

    /// True when no finding is an error (exit code 0).
    pub fn ok(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The most important error or warning, if any (what `wasmgate run` points to).
    pub fn top(&self) -> Option<&Finding> {
        self.findings
            .first()
            .filter(|f| f.severity != Severity::Info)
    }

    fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }

    /// `1 error, 0 warnings, 3 info`.
    pub fn summary(&self) -> String {
        let e = self.count(Severity::Error);
        let w = self.count(Severity::Warning);
        format!(
            "{e} error{}, {w} warning{}, {} info",
            if e == 1 { "" } else { "s" },
            if w == 1 { "" } else { "s" },
            self.count(Severity::Info)
        )
    }

    /// The human report. `file` is shown as given.
    pub fn human(&self, file: &str) -> String {
        let mut out = format!("{file}: {}", self.summary());
        match &self.module {
            Some(m) => out.push_str(&format!(" — {}\n", m.headline())),
            None => out.push_str(" — not readable as WebAssembly\n"),
        }
        for f in &self.findings {
            out.push('\n');
            out.push_str(&format!("{}[{}]: {}\n", f.severity.as_str(), f.id, f.title));
            push_block(&mut out, &f.explanation, "    ");
            if let Some(fix) = &f.fix {
                out.push_str("  fix:\n");
                push_block(&mut out, fix, "    ");
            }
        }
        out
    }

    /// The JSON document (pretty-printed, newline-terminated).
    pub fn json(&self, file: &str) -> String {
        let doc = JsonReport {
            schema_version: SCHEMA_VERSION,
            file,
            ok: self.ok(),
            counts: Counts {
                error: self.count(Severity::Error),
                warning: self.count(Severity::Warning),
                info: self.count(Severity::Info),
            },
            host: JsonHost {
                wasip1: true,
                abi: crate::host::ABI_MODULE,
                wasi_p2_max: MAX_WASI_P2.to_string(),
            },
            module: self.module.as_ref(),
            findings: &self.findings,
        };
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| {
            format!("{{\"schema_version\": {SCHEMA_VERSION}, \"error\": \"{e}\"}}")
        });
        s.push('\n');
        s
    }
}

/// Appends `text` indented; prose lines are wrapped, lines already indented (code)
/// are kept as they are.
fn push_block(out: &mut String, text: &str, indent: &str) {
    for line in text.lines() {
        if line.is_empty() {
            out.push('\n');
        } else if line.starts_with("    ") || line.starts_with("- ") || line.starts_with("  ") {
            out.push_str(indent);
            out.push_str(line);
            out.push('\n');
        } else {
            for wrapped in wrap(line, WRAP - indent.len()) {
                out.push_str(indent);
                out.push_str(&wrapped);
                out.push('\n');
            }
        }
    }
}

fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(current);
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_words() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("a", 5), vec!["a"]);
        assert_eq!(wrap("toolongword x", 4), vec!["toolongword", "x"]);
    }
}
