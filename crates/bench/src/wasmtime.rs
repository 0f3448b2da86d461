//! `--wasmtime PATH`: Wasmtime's own CLI as a peer in P1 (and, as `wasmtime serve`, in
//! S1, see `serve_bench.rs`). It runs the same wasi:http
//! component as the `component` subject (`test-programs` `http-client`, command `bench`)
//! with `run -S http` and no policy. Its default outgoing handler opens a new connection
//! per request, so expect it several times slower than the floor; it has no target.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A Wasmtime CLI that answered `--version`.
#[derive(Debug, Clone)]
pub struct Wasmtime {
    path: PathBuf,
    /// Its `--version` line, for the report.
    pub version: String,
}

impl Wasmtime {
    /// Checks `path` (a bare name is looked up in `$PATH`) and asks it for its version,
    /// so a wrong `--wasmtime` fails before anything is measured.
    pub fn locate(path: &Path) -> Result<Wasmtime, String> {
        let resolved = if path.components().count() == 1 && !path.has_root() {
            let dirs = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&dirs)
                .map(|d| d.join(path))
                .find(|p| p.is_file())
                .unwrap_or_else(|| path.to_path_buf())
        } else {
            path.to_path_buf()
        };
        if !resolved.is_file() {
            return Err(format!(
                "--wasmtime: {} does not exist (get the CLI with `cargo install wasmtime-cli --version 48.0.8 --locked`, see docs/benchmarks.md)",
                path.display()
            ));
        }
        let out = Command::new(&resolved)
            .arg("--version")
            .output()
            .map_err(|e| format!("--wasmtime: cannot run {}: {e}", resolved.display()))?;
        if !out.status.success() {
            return Err(format!(
                "--wasmtime: `{} --version` failed ({}): {}",
                resolved.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Ok(Wasmtime {
            path: resolved,
            version,
        })
    }

    /// `PATH run -S http WASM ARGS…`.
    pub fn command(&self, wasm: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.path);
        cmd.args(["run", "-S", "http"]).arg(wasm).args(args);
        cmd
    }

    /// `PATH serve -S cli --addr 127.0.0.1:0 WASM`: a port of the kernel's choosing
    /// (printed as `Serving HTTP on http://…/`); `-S cli` because the component, a
    /// wasm32-wasip2 binary, also imports `wasi:cli`.
    pub fn serve_command(&self, wasm: &Path) -> Command {
        let mut cmd = Command::new(&self.path);
        cmd.args(["serve", "-S", "cli", "--addr", "127.0.0.1:0"])
            .arg(wasm);
        cmd
    }

    /// The program and its version, for the report.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.path.display(), self.version)
    }
}
