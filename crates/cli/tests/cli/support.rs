//! Running the binary with a deadline, temporary directories and output helpers.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use wasmgate_test_support::{Guest, TestCa, TestServer, guest};

/// No single run may take longer than this; a run that does is killed and the test fails.
const DEADLINE: Duration = Duration::from_secs(60);

/// What one run of `wasmgate` produced.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Asserts the exit code, showing the whole output on failure.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts stderr contains `needle`.
    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stderr ---\n{}\n--- stdout ---\n{}",
            self.stderr,
            self.stdout
        );
        self
    }

    /// Asserts stdout contains `needle`.
    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts stdout does not contain `needle`.
    #[track_caller]
    pub fn stdout_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout unexpectedly has {needle:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts stderr does not contain `needle`.
    #[track_caller]
    pub fn stderr_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stderr.contains(needle),
            "stderr unexpectedly has {needle:?}\n--- stderr ---\n{}",
            self.stderr
        );
        self
    }

    /// Stderr lines starting with `prefix`, without the slow-compile notice
    /// (`wasmgate: compiling …`): whether a run prints it depends on the shared cache
    /// and the machine's load, not on what the test checks.
    pub fn stderr_lines_starting(&self, prefix: &str) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with(prefix) && !l.starts_with("wasmgate: compiling "))
            .collect()
    }

    /// The flag and value of the `to allow it, add: --FLAG VALUE` suggestion on stderr,
    /// shell-unquoted: exactly the two arguments a user would paste.
    #[track_caller]
    pub fn suggestion(&self) -> [String; 2] {
        let marker = "; to allow it, add: ";
        let line = self
            .stderr
            .lines()
            .find(|l| l.contains(marker))
            .unwrap_or_else(|| panic!("no suggestion on stderr:\n{}", self.stderr));
        let text = &line[line.find(marker).unwrap() + marker.len()..];
        let (flag, value) = text
            .split_once(' ')
            .unwrap_or_else(|| panic!("suggestion {text:?} is not `FLAG VALUE`"));
        [flag.to_string(), shell_unquote(value.trim_end())]
    }
}

/// Undoes POSIX single-quoting as the product writes it (`'…'`, with `'\''` for a quote).
pub fn shell_unquote(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('\'') {
            let end = after.find('\'').expect("unterminated quote in suggestion");
            out.push_str(&after[..end]);
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix("\\'") {
            out.push('\'');
            rest = after;
        } else {
            assert!(
                !rest.starts_with(' '),
                "unquoted space in suggestion {s:?}: it would split into two words"
            );
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Runs `wasmgate ARGS…` in the current directory.
pub fn wasmgate<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    wasmgate_in(None, args)
}

/// Runs `wasmgate ARGS…`, in `dir` if given, killing it after [`DEADLINE`].
pub fn wasmgate_in<I, S>(dir: Option<&Path>, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    wasmgate_with_env(dir, &[], args)
}

/// Proxy variables of the host's environment, removed from every run so that a
/// developer's or CI's proxy settings never change a test; tests set them with
/// [`wasmgate_env`].
const PROXY_VARS: [&str; 6] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// [`wasmgate_with_env`] with text values.
pub fn wasmgate_env<I, S>(dir: Option<&Path>, env: &[(&str, &str)], args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, OsStr::new(*v))).collect();
    wasmgate_with_env(dir, &env, args)
}

/// Like [`wasmgate_in`], with environment variables `env` set for the process.
pub fn wasmgate_with_env<I, S>(dir: Option<&Path>, env: &[(&str, &OsStr)], args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasmgate"));
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Keep the host's tracing/backtrace settings from changing what is printed.
        .env_remove("RUST_LOG")
        .env_remove("RUST_BACKTRACE")
        // A compiled-code cache of the tests' own, shared by all of them.
        .env(
            "XDG_CACHE_HOME",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-cache"),
        );
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn wasmgate");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for wasmgate") {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = String::from_utf8_lossy(&err_t.join().unwrap()).into_owned();
            panic!("wasmgate did not finish within {DEADLINE:?}; killed. stderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap()).into_owned();
    Run {
        code: status.code(),
        stdout,
        stderr,
        elapsed,
    }
}

/// A fresh directory under cargo's per-target temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "cli-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `contents` to `name` inside the directory and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Path of the http-client component as a string argument.
pub fn http_client() -> String {
    guest(Guest::HttpClient).display().to_string()
}

/// Path of the wstd-client component as a string argument.
pub fn wstd_client() -> String {
    guest(Guest::WstdClient).display().to_string()
}

/// Path of the wasip1-hello core module as a string argument.
pub fn wasip1_hello() -> String {
    guest(Guest::Wasip1Hello).display().to_string()
}

/// Requests the server has received so far.
pub fn requests(server: &TestServer) -> usize {
    server.stats().requests.load(Ordering::SeqCst)
}

/// The body `/hello` answers with.
pub const HELLO_BODY: &str = "hello from the test server";
