//! Running `wasmgate` (or any program) as a child process: wall time, output, and the
//! exact peak RSS from `wait4` (`ru_maxrss`, the kernel's `VmHWM` at exit).

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the environment of the bench binary when it is to act as `wasmgate` itself.
pub const AS_WASMGATE_ENV: &str = "WASMGATE_BENCH_AS_WASMGATE";

/// How to start `wasmgate`.
#[derive(Debug, Clone)]
pub enum Wasmgate {
    /// A `wasmgate` binary.
    Binary(PathBuf),
    /// This bench binary, re-executed as `wasmgate` (the same code, linked into it).
    SelfExec(PathBuf),
}

impl Wasmgate {
    /// A command starting `wasmgate` with `args`.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = match self {
            Wasmgate::Binary(p) => Command::new(p),
            Wasmgate::SelfExec(p) => {
                let mut c = Command::new(p);
                c.env(AS_WASMGATE_ENV, "1");
                c
            }
        };
        cmd.args(args);
        cmd
    }

    /// The program that runs, for the report.
    pub fn describe(&self) -> String {
        match self {
            Wasmgate::Binary(p) => p.display().to_string(),
            Wasmgate::SelfExec(p) => format!("{} (acting as wasmgate)", p.display()),
        }
    }

    /// Whether `wasmgate run --help` lists `flag`.
    pub fn run_has_flag(&self, flag: &str) -> bool {
        self.command(["run", "--help"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains(flag))
            .unwrap_or(false)
    }
}

/// Finds `wasmgate`: `--wasmgate PATH` (`self` for this binary), else `$WASMGATE_BIN`,
/// else `target/release/wasmgate`, built first with `cargo build --release -p
/// wasmgate-cli` (a no-op when it is up to date) unless `build` is false.
pub fn locate(explicit: Option<&Path>, build: bool) -> Result<Wasmgate, String> {
    let from_env = std::env::var_os("WASMGATE_BIN").map(PathBuf::from);
    if let Some(p) = explicit.map(Path::to_path_buf).or(from_env) {
        if p.as_os_str() == "self" {
            let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
            return Ok(Wasmgate::SelfExec(exe));
        }
        if !p.is_file() {
            return Err(format!("wasmgate binary {} does not exist", p.display()));
        }
        return Ok(Wasmgate::Binary(p));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = root.join("target/release/wasmgate");
    if build {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        eprintln!("wasmgate-bench: cargo build --release -p wasmgate-cli");
        let status = Command::new(cargo)
            .current_dir(&root)
            .args(["build", "--release", "-p", "wasmgate-cli"])
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err("cargo build --release -p wasmgate-cli failed".into());
        }
    }
    if !bin.is_file() {
        return Err(format!(
            "{} does not exist; build it with `cargo build --release -p wasmgate-cli` or set WASMGATE_BIN",
            bin.display()
        ));
    }
    Ok(Wasmgate::Binary(bin))
}

/// How a child process ended.
#[derive(Debug)]
pub struct Finished {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// From spawning to reaping.
    pub wall: Duration,
    /// Peak resident set size in KiB (`ru_maxrss`).
    pub peak_rss_kib: u64,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

impl Finished {
    /// The number after `prefix` on the first stdout line that starts with it.
    pub fn number(&self, prefix: &str) -> Option<f64> {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|v| v.trim().parse().ok())
    }

    /// An error naming `what` with the exit code and output, unless it exited 0.
    pub fn check(self, what: &str) -> Result<Finished, String> {
        if self.code == Some(0) {
            return Ok(self);
        }
        Err(format!(
            "{what} failed (exit {:?})\nstdout:\n{}\nstderr:\n{}",
            self.code,
            tail(&self.stdout),
            tail(&self.stderr)
        ))
    }
}

fn tail(s: &str) -> &str {
    let start = s.len().saturating_sub(2000);
    let start = (start..s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    &s[start..]
}

/// Runs `cmd` to completion, capturing its output.
pub fn run(mut cmd: Command) -> Result<Finished, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let pid = child.id() as libc::pid_t;
    let readers = [
        child.stdout.take().map(|s| reader(Box::new(s))),
        child.stderr.take().map(|s| reader(Box::new(s))),
    ];
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = loop {
        // SAFETY: `pid` is our own child, not yet reaped (std's `Child` is never waited
        // on); `status` and `usage` are valid for writes.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = started.elapsed();
    if reaped != pid {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    let [out, err] = readers.map(|r| r.map(|h| h.join().unwrap_or_default()).unwrap_or_default());
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ok(Finished {
        code,
        wall,
        peak_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        stdout: out,
        stderr: err,
    })
}

fn reader(mut r: Box<dyn Read + Send>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}
