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
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    // Held during the build: concurrent tests wait for the one build instead of
    // racing on the output file.
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(program) {
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
    let name = package
        .trim_start_matches("testprograms/")
        .replace('/', "-");
    let path = out_dir.join(format!("{name}.wasm"));
    // Built under a private name and renamed: another test process may be reading
    // the previous build.
    let tmp = out_dir.join(format!("{name}.{}.tmp.wasm", std::process::id()));
    build(&package, &tmp);
    std::fs::rename(&tmp, &path).expect("move the built Go guest into place");
    built.insert(program.to_string(), path.clone());
    path
}

fn build(package: &str, output: &Path) {
    let out = go_command()
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        .arg("build")
        .arg("-o")
        .arg(output)
        .arg(format!("./{package}"))
        .output()
        .expect("run go build");
    assert!(
        out.status.success(),
        "building Go guest {package} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
