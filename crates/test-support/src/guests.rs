//! Builds the guest programs in `test-programs/` once per test process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A guest program from `test-programs/src/bin/`.
#[derive(Debug, Clone, Copy)]
pub enum Guest {
    /// Raw `wasi:http` client (component, wasm32-wasip2).
    HttpClient,
    /// Client built on the `wstd` crate (component, wasm32-wasip2).
    WstdClient,
    /// Raw `wasi:http/incoming-handler` server (component, wasm32-wasip2).
    HttpHandler,
    /// `#[wstd::http_server]` handler (component, wasm32-wasip2).
    WstdHandler,
    /// Plain core module without HTTP (wasm32-wasip1).
    Wasip1Hello,
}

impl Guest {
    fn target_and_name(self) -> (&'static str, &'static str) {
        match self {
            Guest::HttpClient => ("wasm32-wasip2", "http-client"),
            Guest::WstdClient => ("wasm32-wasip2", "wstd-client"),
            Guest::HttpHandler => ("wasm32-wasip2", "http-handler"),
            Guest::WstdHandler => ("wasm32-wasip2", "wstd-handler"),
            Guest::Wasip1Hello => ("wasm32-wasip1", "wasip1-hello"),
        }
    }
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Path of the built `.wasm` for `g`, building all guests of its target on first use.
pub fn guest(g: Guest) -> PathBuf {
    static P1: OnceLock<PathBuf> = OnceLock::new();
    static P2: OnceLock<PathBuf> = OnceLock::new();
    let (target, name) = g.target_and_name();
    let cell = if target == "wasm32-wasip1" { &P1 } else { &P2 };
    let dir = cell.get_or_init(|| build(target));
    let path = dir.join(format!("{name}.wasm"));
    assert!(path.is_file(), "guest {} was not built", path.display());
    path
}

fn build(target: &str) -> PathBuf {
    let root = repo_root();
    // A target dir of their own: the guests' cargo must not wait on the lock of the
    // cargo that is running these tests.
    let target_dir = root.join("target/guests");
    let bins: &[&str] = if target == "wasm32-wasip1" {
        &["wasip1-hello"]
    } else {
        &["http-client", "wstd-client", "http-handler", "wstd-handler"]
    };
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root.join("test-programs"))
        .args(["build", "--release", "--target", target])
        .env("CARGO_TARGET_DIR", &target_dir)
        // Flags meant for the host build must not leak into the wasm build.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    for b in bins {
        cmd.args(["--bin", b]);
    }
    let out = cmd.output().expect("run cargo to build the guest programs");
    assert!(
        out.status.success(),
        "building guests for {target} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir.join(target).join("release")
}
