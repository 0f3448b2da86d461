//! Reads a `.wasm` file once into [`Facts`]: everything the checks look at. Nothing
//! here judges; the checks in `checks/` do.

use std::collections::BTreeSet;
use wasmparser::{
    Encoding, ExternalKind, KnownCustom, Name, Parser, Payload, TypeRef, Validator, WasmFeatures,
};

/// Largest input doctor reads. Real guests are a few MiB (a Go binary with
/// `net/http` is ~10 MiB); anything far larger is almost surely not a guest, and
/// parsing it would only cost time and memory.
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// Most function names kept from name sections. A large Go binary has ~30,000
/// functions; the cap keeps a hostile name section from growing memory without bound.
pub const MAX_FUNCTION_NAMES: usize = 200_000;

/// Longest function name kept (longer ones are cut): names are only searched for
/// short markers such as `net/http.` or `netdev`.
pub const MAX_NAME_LEN: usize = 512;

/// Most imports and exports kept per module or component. Real guests have dozens;
/// the rest of a hostile list is counted, not kept.
pub const MAX_ENTRIES: usize = 10_000;

/// Most data-segment bytes searched for [`NEEDLES`]. A Go binary's data is a few MiB.
pub const MAX_DATA_SCAN_BYTES: usize = 64 * 1024 * 1024;

/// Strings whose presence in a module's data tells a check something.
pub const NEEDLES: &[&str] = &[NETDEV_NOT_SET];

/// The error text of TinyGo's `net` package when no network device driver is set.
pub const NETDEV_NOT_SET: &str = "Netdev not set";

/// What the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A core module (wasip1 or no WASI at all).
    CoreModule,
    /// A component (wasip2).
    Component,
}

/// One import of a core module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreImport {
    /// The import module, e.g. `wasi_snapshot_preview1`.
    pub module: String,
    /// The item name, e.g. `fd_write`.
    pub name: String,
    /// `func`, `memory`, `table`, `global` or `tag`.
    pub kind: &'static str,
}

/// One export of a core module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreExport {
    /// The export name.
    pub name: String,
    /// `func`, `memory`, `table`, `global` or `tag`.
    pub kind: &'static str,
}

/// A core module: the file itself, or one nested in a component.
#[derive(Debug, Clone, Default)]
pub struct CoreModule {
    /// Its imports, in order (at most [`MAX_ENTRIES`]).
    pub imports: Vec<CoreImport>,
    /// Its exports, in order (at most [`MAX_ENTRIES`]).
    pub exports: Vec<CoreExport>,
}

impl CoreModule {
    /// Does it export `name`?
    pub fn exports(&self, name: &str) -> bool {
        self.exports.iter().any(|e| e.name == name)
    }

    /// Does it import anything from `module`?
    pub fn imports_module(&self, module: &str) -> bool {
        self.imports.iter().any(|i| i.module == module)
    }
}

/// One entry of a producers section (`language`, `processed-by` or `sdk`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Producer {
    /// The field: `language`, `processed-by` or `sdk`.
    pub field: String,
    /// The tool or language, e.g. `rustc`, `TinyGo`, `Go`.
    pub name: String,
    /// Its version as written (may be empty).
    pub version: String,
}

/// Everything the checks need to know about one file.
#[derive(Debug, Clone)]
pub struct Facts {
    /// Core module or component.
    pub kind: Kind,
    /// For a core module: itself (one entry). For a component: every core module
    /// nested in it, at any depth, in file order.
    pub modules: Vec<CoreModule>,
    /// The component's own (outermost) import names, e.g.
    /// `wasi:http/outgoing-handler@0.2.3`. Empty for core modules.
    pub component_imports: Vec<String>,
    /// The component's own export names, e.g. `wasi:cli/run@0.2.3`.
    pub component_exports: Vec<String>,
    /// Producers entries of every module and component, deduplicated and sorted.
    pub producers: Vec<Producer>,
    /// Function names from name sections (at most [`MAX_FUNCTION_NAMES`]).
    pub function_names: Vec<String>,
    /// Names of custom sections present, deduplicated.
    pub custom_sections: BTreeSet<String>,
    /// Which [`NEEDLES`] occur in data segments.
    pub strings: BTreeSet<&'static str>,
    /// Why the validator rejects the file, if it does (the file still parsed).
    pub invalid: Option<String>,
}

impl Facts {
    /// The core module a core-module file is (None for components).
    pub fn core(&self) -> Option<&CoreModule> {
        match self.kind {
            Kind::CoreModule => self.modules.first(),
            Kind::Component => None,
        }
    }

    /// A producers entry by tool name (case-insensitive), in any field.
    pub fn producer(&self, name: &str) -> Option<&Producer> {
        self.producers
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Does any function name satisfy `pred`?
    pub fn any_function(&self, pred: impl Fn(&str) -> bool) -> bool {
        self.function_names.iter().any(|n| pred(n))
    }

    /// Component imports from `package` (e.g. `wasi:http`), any version.
    pub fn component_imports_of<'a>(&'a self, package: &'a str) -> impl Iterator<Item = &'a str> {
        self.component_imports
            .iter()
            .map(String::as_str)
            .filter(move |i| i.starts_with(package) && i[package.len()..].starts_with('/'))
    }
}

/// Why a file could not be inspected at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectError {
    /// It is larger than [`MAX_INPUT_BYTES`].
    TooLarge(u64),
    /// It does not start with the WebAssembly magic bytes.
    NotWasm,
    /// It starts like WebAssembly but cannot be parsed (truncated or corrupt).
    Malformed(String),
}

impl std::fmt::Display for InspectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge(n) => write!(
                f,
                "the file is {n} bytes, more than doctor reads ({MAX_INPUT_BYTES} bytes); a WebAssembly guest is normally a few MiB"
            ),
            Self::NotWasm => f.write_str(
                "the file is not a WebAssembly binary: it does not start with the `\\0asm` magic bytes (text-format .wat files are not accepted either)",
            ),
            Self::Malformed(e) => write!(
                f,
                "the file is not a well-formed WebAssembly binary (truncated or corrupt?): {e}"
            ),
        }
    }
}

impl std::error::Error for InspectError {}

fn kind_name(k: ExternalKind) -> &'static str {
    match k {
        ExternalKind::Func | ExternalKind::FuncExact => "func",
        ExternalKind::Table => "table",
        ExternalKind::Memory => "memory",
        ExternalKind::Global => "global",
        ExternalKind::Tag => "tag",
    }
}

fn type_ref_name(t: &TypeRef) -> &'static str {
    match t {
        TypeRef::Func(_) | TypeRef::FuncExact(_) => "func",
        TypeRef::Table(_) => "table",
        TypeRef::Memory(_) => "memory",
        TypeRef::Global(_) => "global",
        TypeRef::Tag(_) => "tag",
    }
}

fn bounded(s: &str) -> String {
    if s.len() <= MAX_NAME_LEN {
        return s.to_string();
    }
    let mut end = MAX_NAME_LEN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    haystack
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == first)
        .any(|(i, _)| haystack[i + 1..].starts_with(rest))
}

/// Parses `bytes` once. Errors only when the file is not wasm at all or cannot be
/// parsed; a file that parses but does not validate is reported in [`Facts::invalid`].
pub fn inspect(bytes: &[u8]) -> Result<Facts, InspectError> {
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(InspectError::TooLarge(bytes.len() as u64));
    }
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(InspectError::NotWasm);
    }
    let kind = if Parser::is_component(bytes) {
        Kind::Component
    } else if Parser::is_core_wasm(bytes) {
        Kind::CoreModule
    } else {
        return Err(InspectError::Malformed(
            "unknown WebAssembly version or layer".into(),
        ));
    };
    let mut facts = Facts {
        kind,
        modules: Vec::new(),
        component_imports: Vec::new(),
        component_exports: Vec::new(),
        producers: Vec::new(),
        function_names: Vec::new(),
        custom_sections: BTreeSet::new(),
        strings: BTreeSet::new(),
        invalid: None,
    };
    let mut producers = BTreeSet::new();
    // What encloses the current payload: one entry per module/component being parsed.
    let mut stack: Vec<Encoding> = Vec::new();
    let mut scanned = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| InspectError::Malformed(e.to_string()))?;
        match payload {
            Payload::Version { encoding, .. } => {
                if encoding == Encoding::Module {
                    facts.modules.push(CoreModule::default());
                }
                stack.push(encoding);
            }
            Payload::End(_) => {
                stack.pop();
            }
            Payload::ImportSection(reader) => {
                let Some(module) = facts.modules.last_mut() else {
                    continue;
                };
                for import in reader.into_imports() {
                    let import = import.map_err(|e| InspectError::Malformed(e.to_string()))?;
                    if module.imports.len() < MAX_ENTRIES {
                        module.imports.push(CoreImport {
                            module: bounded(import.module),
                            name: bounded(import.name),
                            kind: type_ref_name(&import.ty),
                        });
                    }
                }
            }
            Payload::ExportSection(reader) => {
                let Some(module) = facts.modules.last_mut() else {
                    continue;
                };
                for export in reader {
                    let export = export.map_err(|e| InspectError::Malformed(e.to_string()))?;
                    if module.exports.len() < MAX_ENTRIES {
                        module.exports.push(CoreExport {
                            name: bounded(export.name),
                            kind: kind_name(export.kind),
                        });
                    }
                }
            }
            Payload::ComponentImportSection(reader) if stack.len() == 1 => {
                for import in reader {
                    let import = import.map_err(|e| InspectError::Malformed(e.to_string()))?;
                    if facts.component_imports.len() < MAX_ENTRIES {
                        facts.component_imports.push(bounded(import.name.name));
                    }
                }
            }
            Payload::ComponentExportSection(reader) if stack.len() == 1 => {
                for export in reader {
                    let export = export.map_err(|e| InspectError::Malformed(e.to_string()))?;
                    if facts.component_exports.len() < MAX_ENTRIES {
                        facts.component_exports.push(bounded(export.name.name));
                    }
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data.map_err(|e| InspectError::Malformed(e.to_string()))?;
                    if scanned >= MAX_DATA_SCAN_BYTES {
                        continue;
                    }
                    let take = data.data.len().min(MAX_DATA_SCAN_BYTES - scanned);
                    scanned += take;
                    for needle in NEEDLES {
                        if contains(&data.data[..take], needle.as_bytes()) {
                            facts.strings.insert(*needle);
                        }
                    }
                }
            }
            Payload::CustomSection(reader) => {
                if facts.custom_sections.len() < MAX_ENTRIES {
                    facts.custom_sections.insert(bounded(reader.name()));
                }
                match reader.as_known() {
                    KnownCustom::Producers(fields) => {
                        for field in fields {
                            let Ok(field) = field else { break };
                            for value in field.values.into_iter().flatten() {
                                if producers.len() < MAX_ENTRIES {
                                    producers.insert(Producer {
                                        field: bounded(field.name),
                                        name: bounded(value.name),
                                        version: bounded(value.version),
                                    });
                                }
                            }
                        }
                    }
                    KnownCustom::Name(names) => read_names(names, &mut facts.function_names),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    facts.producers = producers.into_iter().collect();
    // Validation with the features Wasmtime enables by default; a failure is kept as
    // a fact (the kind check turns it into a finding) because the rest still tells
    // the user something.
    let mut validator = Validator::new_with_features(WasmFeatures::default());
    if let Err(e) = validator.validate_all(bytes) {
        facts.invalid = Some(e.to_string());
    }
    Ok(facts)
}

/// Custom sections are not validated by engines, so a broken name section is
/// skipped, not an error.
fn read_names(names: wasmparser::NameSectionReader<'_>, out: &mut Vec<String>) {
    for name in names {
        let Ok(Name::Function(map)) = name else {
            continue;
        };
        for naming in map {
            let Ok(naming) = naming else { break };
            if out.len() >= MAX_FUNCTION_NAMES {
                return;
            }
            out.push(bounded(naming.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_needles() {
        assert!(contains(b"xxNetdev not setyy", b"Netdev not set"));
        assert!(!contains(b"Netdev not se", b"Netdev not set"));
        assert!(contains(b"abc", b""));
    }

    #[test]
    fn rejects_non_wasm_and_truncated() {
        assert_eq!(inspect(b"hello world").unwrap_err(), InspectError::NotWasm);
        assert_eq!(inspect(b"").unwrap_err(), InspectError::NotWasm);
        let e = inspect(b"\0asm\x01\0\0\0\x01\x05\x01").unwrap_err();
        assert!(matches!(e, InspectError::Malformed(_)), "{e:?}");
    }

    #[test]
    fn bounded_cuts_at_char_boundaries() {
        let s = "é".repeat(MAX_NAME_LEN);
        let b = bounded(&s);
        assert!(b.len() <= MAX_NAME_LEN && s.starts_with(&b));
    }
}
