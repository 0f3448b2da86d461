//! What `wasmgate run` links into a guest: the single source of truth the checks
//! compare imports against. Keep in step with `crates/wasmgate/src/run.rs` (which
//! linkers are added) and `crates/wasmgate/src/abi/mod.rs` (the ABI functions).

/// The wasip1 import module (Wasmtime's preview1 implementation).
pub const WASIP1_MODULE: &str = "wasi_snapshot_preview1";

/// Every function of `wasi_snapshot_preview1` that Wasmtime 48 links (its
/// `witx/p1/wasi_snapshot_preview1.witx`). `sock_accept`/`sock_recv`/`sock_send`/
/// `sock_shutdown` link but only work on sockets the host handed in; wasmgate hands in
/// none.
pub const WASIP1_FUNCTIONS: &[&str] = &[
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "sched_yield",
    "random_get",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

/// The wasip1 socket functions: linked, but with no socket to use.
pub const WASIP1_SOCKET_FUNCTIONS: &[&str] =
    &["sock_accept", "sock_recv", "sock_send", "sock_shutdown"];

/// The wasmgate host ABI import module (docs/abi.md).
pub const ABI_MODULE: &str = "wasmgate_http_v1";

/// The ABI version this host implements (`version()` returns it).
pub const ABI_VERSION: u32 = 1;

/// Every function of [`ABI_MODULE`] (docs/abi.md "Functions").
pub const ABI_FUNCTIONS: &[&str] = &[
    "version",
    "request_new",
    "request_header",
    "request_option",
    "request_send",
    "body_write",
    "body_finish",
    "poll",
    "response_status",
    "response_version",
    "response_headers",
    "response_header",
    "body_read",
    "close",
    "last_error",
    "fetch",
];

/// The newest `wasi` 0.2 release whose WIT Wasmtime 48 ships (wasmtime-wasi and
/// wasmtime-wasi-http `wit/deps/*.wit`: `package wasi:cli@0.2.12;` …). Wasmtime links
/// an import of any other 0.2.x to it (semver-compatible lookup); an import newer
/// than this links only if it uses nothing added after it.
pub const MAX_WASI_P2: Version = Version {
    major: 0,
    minor: 2,
    patch: 12,
};

/// The 0.2 interfaces linked for components, per package (`wasmtime_wasi::p2` and
/// `wasmtime_wasi_http::p2::add_only_http_to_linker_async`). `wasi:cli/run` and
/// `wasi:http/incoming-handler` are exports, not imports; `wasi:clocks/timezone` is
/// unstable and not linked.
pub const P2_INTERFACES: &[(&str, &[&str])] = &[
    (
        "wasi:cli",
        &[
            "environment",
            "exit",
            "stdin",
            "stdout",
            "stderr",
            "terminal-input",
            "terminal-output",
            "terminal-stdin",
            "terminal-stdout",
            "terminal-stderr",
        ],
    ),
    ("wasi:clocks", &["monotonic-clock", "wall-clock"]),
    ("wasi:filesystem", &["types", "preopens"]),
    ("wasi:io", &["error", "poll", "streams"]),
    ("wasi:random", &["insecure-seed", "insecure", "random"]),
    (
        "wasi:sockets",
        &[
            "network",
            "instance-network",
            "ip-name-lookup",
            "tcp",
            "tcp-create-socket",
            "udp",
            "udp-create-socket",
        ],
    ),
    ("wasi:http", &["types", "outgoing-handler"]),
];

/// The export a component must have for `wasmgate run` (the wasi:cli command world).
pub const CLI_RUN: &str = "wasi:cli/run";

/// A semantic version as used in WIT package names (pre-release kept as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A component import name taken apart: `wasi:http/types@0.2.3` is package
/// `wasi:http`, interface `types`, version `0.2.3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceName<'a> {
    /// `namespace:package`.
    pub package: &'a str,
    /// The interface (may be empty for a bare package import).
    pub interface: &'a str,
    /// The text after `@`, if any.
    pub version_text: Option<&'a str>,
    /// The version, when it parses as plain `MAJOR.MINOR.PATCH` (no pre-release).
    pub version: Option<Version>,
}

impl<'a> InterfaceName<'a> {
    /// Splits `ns:pkg/iface@ver`; None for plain names (`foo`) without a `:`.
    pub fn parse(name: &'a str) -> Option<Self> {
        let (path, version_text) = match name.split_once('@') {
            Some((p, v)) => (p, Some(v)),
            None => (name, None),
        };
        if !path.contains(':') {
            return None;
        }
        let (package, interface) = path.split_once('/').unwrap_or((path, ""));
        let version = version_text.and_then(parse_version);
        Some(Self {
            package,
            interface,
            version_text,
            version,
        })
    }
}

fn parse_version(text: &str) -> Option<Version> {
    // Build metadata (`+…`) does not matter for compatibility; a pre-release does.
    let text = text.split('+').next()?;
    let mut parts = text.split('.');
    let v = Version {
        major: parts.next()?.parse().ok()?,
        minor: parts.next()?.parse().ok()?,
        patch: parts.next()?.parse().ok()?,
    };
    parts.next().is_none().then_some(v)
}

/// How well the host can provide one component import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provision {
    /// Linked (a semver-compatible 0.2.x at most [`MAX_WASI_P2`]).
    Provided,
    /// A 0.2.x newer than [`MAX_WASI_P2`]: links only if it uses nothing newer.
    NewerPatch,
    /// A version Wasmtime 48 cannot link (0.3, a pre-release, 0.1, …).
    WrongVersion,
    /// A `wasi:` interface the host does not link at all.
    UnknownInterface,
    /// Not a `wasi:` import: nothing on the host side defines it.
    Foreign,
}

/// Classifies a component import name.
pub fn provision(name: &str) -> Provision {
    let Some(parsed) = InterfaceName::parse(name) else {
        return Provision::Foreign;
    };
    let is_02 = |v: &Option<Version>| v.is_some_and(|v| v.major == 0 && v.minor == 2);
    // A WASI package at another version (0.3, a release candidate) cannot link whatever
    // the interface; say that rather than "unknown interface".
    let known_package = P2_INTERFACES.iter().any(|(p, _)| *p == parsed.package);
    if known_package && !is_02(&parsed.version) {
        return Provision::WrongVersion;
    }
    let Some((_, interfaces)) = P2_INTERFACES.iter().find(|(p, _)| *p == parsed.package) else {
        return if parsed.package.starts_with("wasi:") {
            Provision::UnknownInterface
        } else {
            Provision::Foreign
        };
    };
    if !interfaces.contains(&parsed.interface) {
        return Provision::UnknownInterface;
    }
    match parsed.version {
        Some(v) if v.major == 0 && v.minor == 2 && v <= MAX_WASI_P2 => Provision::Provided,
        Some(v) if v.major == 0 && v.minor == 2 => Provision::NewerPatch,
        _ => Provision::WrongVersion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_versions() {
        assert_eq!(provision("wasi:http/types@0.2.0"), Provision::Provided);
        assert_eq!(provision("wasi:cli/stdout@0.2.12"), Provision::Provided);
        assert_eq!(provision("wasi:cli/stdout@0.2.13"), Provision::NewerPatch);
        assert_eq!(provision("wasi:http/types@0.3.0"), Provision::WrongVersion);
        assert_eq!(
            provision("wasi:http/types@0.2.0-rc-2023-12-05"),
            Provision::WrongVersion
        );
        assert_eq!(provision("wasi:http/types"), Provision::WrongVersion);
        assert_eq!(
            provision("wasi:keyvalue/store@0.2.0"),
            Provision::UnknownInterface
        );
        assert_eq!(
            provision("wasi:http/handler@0.3.0-rc-2025-09-16"),
            Provision::WrongVersion
        );
        assert_eq!(
            provision("wasi:clocks/timezone@0.2.12"),
            Provision::UnknownInterface
        );
        assert_eq!(provision("acme:thing/api@1.0.0"), Provision::Foreign);
        assert_eq!(provision("plain"), Provision::Foreign);
    }

    #[test]
    fn parses_names() {
        let n = InterfaceName::parse("wasi:http/outgoing-handler@0.2.3+x").unwrap();
        assert_eq!(n.package, "wasi:http");
        assert_eq!(n.interface, "outgoing-handler");
        assert_eq!(n.version.unwrap().to_string(), "0.2.3");
    }
}
