//! Facts derived from [`Facts`] that several checks share: which toolchain built the
//! file, and which network stacks are linked in.

use crate::host::{ABI_MODULE, WASIP1_MODULE};
use crate::inspect::{Facts, Kind, NETDEV_NOT_SET};

/// The import path of wasmgate's Go transport (guest/go).
pub(crate) const GO_TRANSPORT_PACKAGE: &str = "wasmgate.dev/guest/go";

/// The toolchain that produced the code (the first that matches, most specific first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Toolchain {
    TinyGo(String),
    Go(String),
    ComponentizeJs(String),
    ComponentizePy(String),
    Rust(String),
    Clang(String),
    Unknown,
}

impl Toolchain {
    pub(crate) fn detect(f: &Facts) -> Self {
        let version = |name: &str| {
            f.producers
                .iter()
                .find(|p| p.name.to_ascii_lowercase().contains(name))
                .map(|p| p.version.clone())
        };
        if let Some(v) = version("tinygo") {
            return Self::TinyGo(v);
        }
        if f.any_function(|n| n.starts_with("tinygo_")) {
            return Self::TinyGo(String::new());
        }
        if let Some(v) = version("go cmd/compile") {
            return Self::Go(v.trim_start_matches("go").to_string());
        }
        if f.custom_sections.contains("go:buildid")
            || f.any_function(|n| n.starts_with("_rt0_wasm_"))
        {
            return Self::Go(String::new());
        }
        if let Some(v) = version("componentize-js").or_else(|| version("componentizejs")) {
            return Self::ComponentizeJs(v);
        }
        if let Some(v) = version("componentize-py") {
            return Self::ComponentizePy(v);
        }
        if let Some(v) = version("rustc") {
            return Self::Rust(v);
        }
        // A stripped Rust component keeps only the bindings generator's entry.
        if version("wit-bindgen-rust").is_some() {
            return Self::Rust(String::new());
        }
        if f.producers
            .iter()
            .any(|p| p.field == "language" && p.name == "Rust")
        {
            return Self::Rust(String::new());
        }
        if let Some(v) = version("clang") {
            return Self::Clang(v);
        }
        // Stripped of producers and names (`wasm-tools strip -a`, `wasm-opt --strip-*`),
        // TinyGo still gives itself away by the error string of its `net` package; last,
        // so that a program merely quoting the string is named by its real toolchain.
        if f.strings.contains(NETDEV_NOT_SET) {
            return Self::TinyGo(String::new());
        }
        Self::Unknown
    }

    pub(crate) fn is_go(&self) -> bool {
        matches!(self, Self::Go(_))
    }

    pub(crate) fn is_tinygo(&self) -> bool {
        matches!(self, Self::TinyGo(_))
    }

    /// E.g. `TinyGo 0.33.0`, `rustc 1.95.0 (…)`; None when unknown.
    pub(crate) fn describe(&self) -> Option<String> {
        let (name, v) = match self {
            Self::TinyGo(v) => ("TinyGo", v),
            Self::Go(v) => ("Go", v),
            Self::ComponentizeJs(v) => ("componentize-js", v),
            Self::ComponentizePy(v) => ("componentize-py", v),
            Self::Rust(v) if v.is_empty() => ("Rust", v),
            Self::Rust(v) => ("rustc", v),
            Self::Clang(v) => ("clang/wasi-libc", v),
            Self::Unknown => return None,
        };
        Some(if v.is_empty() {
            name.to_string()
        } else {
            format!("{name} {v}")
        })
    }
}

/// Which ways to the network the file has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Network {
    /// A component importing `wasi:http/outgoing-handler`.
    pub(crate) wasi_http: bool,
    /// A core module importing the wasmgate ABI.
    pub(crate) abi: bool,
    /// Go's `net/http` (mainline or TinyGo) is linked in.
    pub(crate) go_net_http: bool,
    /// wasmgate's Go transport (guest/go) is linked in.
    pub(crate) go_transport: bool,
    /// TinyGo's netdev-based `net` is linked in.
    pub(crate) tinygo_netdev: bool,
    /// Mainline Go's in-process fake network (`net.fakeNetFD`, wasip1) is linked in
    /// (named `net.__fakeNetFD_.Read` and so on by Go's linker).
    pub(crate) go_fake_net: bool,
    /// A component importing `wasi:sockets/*`.
    pub(crate) wasi_sockets: bool,
}

impl Network {
    pub(crate) fn detect(f: &Facts, tool: &Toolchain) -> Self {
        let core_abi =
            f.kind == Kind::CoreModule && f.core().is_some_and(|m| m.imports_module(ABI_MODULE));
        let mainline_go_transport = GO_TRANSPORT_PACKAGE.replace('/', "_");
        Self {
            wasi_http: f
                .component_imports_of("wasi:http")
                .any(|i| i.starts_with("wasi:http/outgoing-handler")),
            abi: core_abi,
            // TinyGo keeps Go's spelling (`net/http.Get`, `(*net/http.Client).Do`);
            // mainline Go's linker writes `net_http.Get`, `net_http.__Client_.Do`.
            go_net_http: f.any_function(|n| {
                ["net/http.", "net_http.", "(*net/http.", "(net/http."]
                    .iter()
                    .any(|p| n.starts_with(p))
            }),
            // TinyGo keeps the import path (`(*wasmgate.dev/guest/go.Transport).roundTrip`);
            // mainline Go's linker writes `wasmgate.dev_guest_go.…`.
            go_transport: f.any_function(|n| {
                n.contains(GO_TRANSPORT_PACKAGE) || n.contains(&mainline_go_transport)
            }),
            tinygo_netdev: tool.is_tinygo()
                && (f.strings.contains(NETDEV_NOT_SET)
                    || f.any_function(|n| n.to_ascii_lowercase().contains("netdev"))),
            go_fake_net: f.any_function(|n| n.starts_with("net.") && n.contains("fakeNetFD")),
            wasi_sockets: f.component_imports_of("wasi:sockets").next().is_some(),
        }
    }

    /// Can the file make an HTTP request that wasmgate carries?
    pub(crate) fn can_http(&self) -> bool {
        self.wasi_http || self.abi
    }
}

/// The target a Go program was built for, as the fix must name it.
pub(crate) fn is_wasip1(f: &Facts) -> bool {
    f.core().is_some_and(|m| m.imports_module(WASIP1_MODULE))
}
