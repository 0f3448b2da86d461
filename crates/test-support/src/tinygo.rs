//! Builds Go programs of `guest/go` with TinyGo for `-target=wasip1` and
//! `-target=wasip2`, once per test process.
//!
//! TinyGo is found through `target/tinygo/env.sh`, which `scripts/setup-tinygo.sh`
//! writes (it is run here on first use if the file is missing). Without TinyGo,
//! [`tinygo`] returns `None` and prints `skipped: no TinyGo` past the test harness's
//! output capture, so a skipped test is visible; under `CI=true` a missing TinyGo
//! panics instead (CI must run these tests).

use crate::go::{build_once, go_module_dir};
use crate::guests::repo_root;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A TinyGo target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `-target=wasip1`: a core module (the program uses wasmgate's host ABI).
    Wasip1,
    /// `-target=wasip2`: a component (the program uses `wasi:http`), built with the
    /// Go library's WIT world (`-wit-package guest/go/wit -wit-world client`).
    Wasip2,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Wasip1 => "wasip1",
            Target::Wasip2 => "wasip2",
        }
    }
}

/// An installed TinyGo.
#[derive(Debug)]
pub struct TinyGo {
    /// `TINYGOROOT`.
    pub root: PathBuf,
    /// Directories to put in front of `PATH` (TinyGo's `bin` and the Go it needs).
    pub path: String,
}

impl TinyGo {
    /// A `tinygo` command in `guest/go` with the offline environment the builds use.
    pub fn command(&self) -> Command {
        let root = repo_root();
        let path = format!(
            "{}:{}",
            self.path,
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new("tinygo");
        cmd.current_dir(go_module_dir())
            .env("PATH", path)
            .env("TINYGOROOT", &self.root)
            .env("GOPROXY", "off")
            .env("GOFLAGS", "-mod=mod")
            .env("GOTOOLCHAIN", "local")
            // TinyGo runs its own Go (1.23): its build cache must not be mainline Go's.
            .env("GOCACHE", root.join("target/tinygo-gocache"))
            .env("GOMODCACHE", root.join("target/go-modcache"))
            .env("GOPATH", root.join("target/go-path"))
            .env("XDG_CACHE_HOME", root.join("target/tinygo-cache"))
            .env_remove("GOOS")
            .env_remove("GOARCH");
        cmd
    }
}

/// The installed TinyGo, or `None` (after printing `skipped: no TinyGo …`) when there is
/// none outside CI. Under `CI=true` a missing TinyGo panics.
pub fn tinygo() -> Option<&'static TinyGo> {
    static TINYGO: OnceLock<Option<TinyGo>> = OnceLock::new();
    let found = TINYGO.get_or_init(find).as_ref();
    if found.is_none() {
        // Written to the process's stderr directly: libtest captures only the print
        // macros, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: no TinyGo (run scripts/setup-tinygo.sh, or put TinyGo >= 0.33 on PATH)"
        );
    }
    found
}

fn find() -> Option<TinyGo> {
    let root = repo_root();
    let env_file = root.join("target/tinygo/env.sh");
    if !env_file.is_file() {
        let out = Command::new("bash")
            .arg(root.join("scripts/setup-tinygo.sh"))
            .output()
            .expect("run scripts/setup-tinygo.sh");
        assert!(
            out.status.success(),
            "scripts/setup-tinygo.sh failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let found = std::fs::read_to_string(&env_file)
        .ok()
        .and_then(|s| parse_env(&s));
    if found.is_none() && std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "no TinyGo under CI=true: scripts/setup-tinygo.sh must install it ({} is missing or unreadable)",
            env_file.display()
        );
    }
    found
}

/// Reads the two lines `export TINYGOROOT=…` and `export PATH=…:$PATH`.
fn parse_env(s: &str) -> Option<TinyGo> {
    let mut root = None;
    let mut path = None;
    for line in s.lines() {
        if let Some(v) = line.strip_prefix("export TINYGOROOT=") {
            root = Some(PathBuf::from(v.trim()));
        } else if let Some(v) = line.strip_prefix("export PATH=") {
            path = Some(
                v.trim()
                    .trim_end_matches("$PATH")
                    .trim_end_matches(':')
                    .to_string(),
            );
        }
    }
    Some(TinyGo {
        root: root?,
        path: path?,
    })
}

/// The WIT package of the Go library (`guest/go/wit`, world `client`) that wasip2 builds
/// are componentized against.
pub fn wit_package() -> PathBuf {
    go_module_dir().join("wit")
}

/// Path of `program` (named as in [`crate::go::go_guest`]) built by TinyGo for
/// `target`, or `None` when there is no TinyGo (see [`tinygo`]). Built once per process
/// per program and target; panics with TinyGo's output if the build fails.
pub fn tinygo_guest(program: &str, target: Target) -> Option<PathBuf> {
    let tinygo = tinygo()?;
    let flavour = format!("tinygo-{}", target.name());
    Some(build_once(program, &flavour, |package, output| {
        build_command(tinygo, target, &format!("./{package}"), output)
    }))
}

/// The documented build command (guest/go/README.md): for wasip2,
/// `tinygo build -target=wasip2 -wit-package <guest/go>/wit -wit-world client -o OUT PKG`.
pub fn build_command(tinygo: &TinyGo, target: Target, package: &str, output: &Path) -> Command {
    let mut cmd = tinygo.command();
    cmd.arg("build").arg(format!("-target={}", target.name()));
    if target == Target::Wasip2 {
        cmd.arg("-wit-package")
            .arg(wit_package())
            .args(["-wit-world", "client"]);
    }
    cmd.arg("-o").arg(output).arg(package);
    cmd
}
