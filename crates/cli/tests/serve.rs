//! `wasmgate serve` as a user runs it: a real process on 127.0.0.1:0, real requests,
//! SIGTERM, and the files and endpoints it writes, parsed back. Every wait is bounded;
//! the server is killed if a test fails before stopping it.

#[path = "cli/support.rs"]
#[allow(dead_code, unused_imports)]
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::{TempDir, TestServer, wasmgate};

/// Every wait here is bounded by this.
const BOUND: Duration = Duration::from_secs(60);

/// `test-programs/src/bin/serve-probe.rs` (see its routes), built once per process.
fn probe() -> PathBuf {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let target_dir = root.join("target/guests");
            let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .current_dir(root.join("test-programs"))
                .args(["build", "--release", "--target", "wasm32-wasip2"])
                .args(["--bin", "serve-probe"])
                .env("CARGO_TARGET_DIR", &target_dir)
                .env_remove("RUSTFLAGS")
                .env_remove("CARGO_ENCODED_RUSTFLAGS")
                .output()
                .expect("run cargo to build serve-probe");
            assert!(
                out.status.success(),
                "building serve-probe failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            target_dir.join("wasm32-wasip2/release/serve-probe.wasm")
        })
        .clone()
}

/// A running `wasmgate serve`; killed on drop if still running.
struct Served {
    child: Child,
    addr: SocketAddr,
    metrics: Option<SocketAddr>,
    stderr: Arc<Mutex<String>>,
}

impl Served {
    /// Starts `wasmgate serve ARGS… --addr 127.0.0.1:0` and waits for its "serving" line.
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wasmgate"))
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .env(
                "XDG_CACHE_HOME",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-cache"),
            )
            .spawn()
            .expect("spawn wasmgate serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("wasmgate: serving ") {
                    let _ = tx.send(line.clone());
                }
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let Ok(line) = rx.recv_timeout(BOUND) else {
            let _ = child.kill();
            panic!("no serving line:\n{}", stderr.lock().unwrap());
        };
        // "wasmgate: serving F (…) on http://A[; metrics on http://M/metrics, …]"
        let addr = line
            .split(" on http://")
            .nth(1)
            .and_then(|rest| rest.split(&[';', ' '][..]).next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        let metrics = line
            .split("metrics on http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|a| a.parse().ok());
        Self {
            child,
            addr,
            metrics,
            stderr,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn wait_stderr(&self, needle: &str) {
        wait_until(&format!("{needle:?} on stderr"), || {
            self.stderr().contains(needle).then_some(())
        });
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{name} failed");
    }

    /// Waits (bounded) for the process to exit; its exit code.
    fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "serve did not exit:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One HTTP/1.1 GET on a new connection (`Connection: close`): status and body.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(BOUND)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read response");
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    // Chunked bodies of one chunk: "N\r\nDATA\r\n0\r\n\r\n".
    let body = match body.split_once("\r\n") {
        Some((len, rest)) if usize::from_str_radix(len, 16).is_ok() => {
            rest.split("\r\n").next().unwrap_or("").to_string()
        }
        _ => body.to_string(),
    };
    (status, body)
}

/// The value of a metric line `NAME VALUE` in Prometheus text.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
}

#[test]
fn sigterm_drains_the_request_in_flight_refuses_new_ones_and_exits_0() {
    let dir = TempDir::new();
    let access = dir.path().join("access.jsonl");
    let probe = probe();
    let mut served = Served::start(&[
        "--metrics-addr",
        "127.0.0.1:0",
        "--access-log",
        access.to_str().unwrap(),
        probe.to_str().unwrap(),
    ]);
    let (addr, metrics) = (served.addr, served.metrics.expect("metrics address"));
    assert_eq!(get(metrics, "/healthz"), (200, "ready\n".into()));
    let slow = std::thread::spawn(move || get(addr, "/sleep?ms=2000"));
    // The handler is running once the in-flight gauge says so.
    wait_until("the slow request in flight", || {
        let (_, text) = get(metrics, "/metrics");
        (metric(&text, "wasmgate_serve_in_flight_requests") == Some(1.0)).then_some(())
    });
    served.signal("TERM");
    served.wait_stderr("SIGTERM: no longer accepting connections");
    wait_until("new connections to be refused", || {
        TcpStream::connect(addr).is_err().then_some(())
    });
    assert_eq!(slow.join().unwrap(), (200, "slept 2000".into()));
    assert_eq!(served.wait_exit(), Some(0), "{}", served.stderr());
    let stderr = served.stderr();
    assert!(
        stderr.contains("wasmgate: stopped after 1 requests"),
        "{stderr}"
    );

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&access)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let r = &lines[0];
    assert_eq!(r["method"], "GET");
    assert_eq!(r["path"], "/sleep");
    assert_eq!(r["status"], 200);
    assert_eq!(r["bytes"], 10);
    assert_eq!(r["outbound"], 0);
    assert!(r["error"].is_null());
    assert!(r["duration_ms"].as_f64().unwrap() > 0.0);
    assert!(r["time_unix_ms"].as_u64().unwrap() > 1_600_000_000_000);
}

#[test]
fn verbose_lines_audit_log_and_metrics_name_the_incoming_request() {
    let upstream = TestServer::http();
    let dir = TempDir::new();
    let audit = dir.path().join("audit.jsonl");
    let rule = format!("GET {}", upstream.url("/hello"));
    let probe = probe();
    let mut served = Served::start(&[
        "-v",
        "--allow",
        &rule,
        "--allow-cidr",
        "127.0.0.1/32",
        "--audit-log",
        audit.to_str().unwrap(),
        "--metrics-addr",
        "127.0.0.1:0",
        "--request-timeout",
        "1s",
        probe.to_str().unwrap(),
    ]);
    let addr = served.addr;
    let fetch = |path: &str| get(addr, &format!("/fetch?url={}", upstream.url(path)));
    assert_eq!(fetch("/hello").0, 200);
    assert_eq!(
        fetch("/json"),
        (502, "outbound error: ErrorCode::HttpRequestDenied".into())
    );
    assert_eq!(get(addr, "/trap").0, 500);
    served.wait_stderr("GET /trap #3 -> 500");
    let stderr = served.stderr();
    assert!(
        stderr.contains("wasmgate: GET /fetch #1 -> 200, "),
        "{stderr}"
    );
    assert!(
        stderr.contains("wasmgate: [GET /fetch #2] denied GET http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("-> 500, 72 B, ") && stderr.contains("the handler trapped: wasm trap"),
        "{stderr}"
    );
    let (_, text) = get(served.metrics.unwrap(), "/metrics");
    assert_eq!(
        metric(
            &text,
            "wasmgate_serve_outbound_requests_total{decision=\"denied\",kind=\"denied\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "wasmgate_serve_outbound_requests_total{decision=\"allowed\",kind=\"ok\"}"
        ),
        Some(1.0),
        "{text}"
    );
    served.signal("INT");
    assert_eq!(served.wait_exit(), Some(0));
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{records:?}");
    let incoming: Vec<&str> = records
        .iter()
        .map(|r| r["incoming"].as_str().unwrap())
        .collect();
    assert!(incoming.contains(&"GET /fetch #1"), "{incoming:?}");
    assert!(incoming.contains(&"GET /fetch #2"), "{incoming:?}");
}

#[test]
fn the_config_file_carries_the_serve_settings() {
    let dir = TempDir::new();
    let config = dir.write(
        "wasmgate.toml",
        "[serve]\nmax_incoming_body = \"16B\"\naccess_log = \"logs.jsonl\"\nrequest_timeout = \"1s\"\n",
    );
    let probe = probe();
    let mut served = Served::start(&[
        "--config",
        config.to_str().unwrap(),
        probe.to_str().unwrap(),
    ]);
    let mut s = TcpStream::connect(served.addr).unwrap();
    s.set_read_timeout(Some(BOUND)).unwrap();
    write!(
        s,
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\nConnection: close\r\n\r\n12345678901234567"
    )
    .unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    assert!(text.starts_with("HTTP/1.1 413 "), "{text}");
    assert_eq!(get(served.addr, "/spin").0, 504);
    served.signal("TERM");
    assert_eq!(served.wait_exit(), Some(0));
    // Relative to the config file's folder.
    let log = std::fs::read_to_string(dir.path().join("logs.jsonl")).unwrap();
    let statuses: Vec<u64> = log
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["status"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(statuses, [413, 504]);
}

#[test]
fn exit_codes_of_serve() {
    let dir = TempDir::new();
    let probe = probe();
    let probe = probe.to_str().unwrap();
    // (args, code, what stderr says)
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_addr = busy.local_addr().unwrap().to_string();
    let missing = dir.path().join("missing.wasm");
    let garbage = dir.write("garbage.wasm", b"not wasm at all");
    let cert = dir.write("cert.pem", "not a certificate");
    let client = support::http_client();
    let table: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["--addr", "nonsense", probe],
            125,
            "invalid --addr \"nonsense\"",
        ),
        (vec!["--addr", &busy_addr, probe], 125, "cannot listen on"),
        (
            vec!["--max-concurrent-handlers", "0", probe],
            125,
            "expected at least 1",
        ),
        (
            vec!["--request-timeout", "soon", probe],
            125,
            "--request-timeout",
        ),
        (
            vec![
                "--tls-cert",
                cert.to_str().unwrap(),
                "--tls-key",
                cert.to_str().unwrap(),
                probe,
            ],
            125,
            "--tls-cert",
        ),
        (vec![missing.to_str().unwrap()], 127, "cannot read"),
        (
            vec![garbage.to_str().unwrap()],
            126,
            "not a WebAssembly binary",
        ),
        (
            vec![client.as_str()],
            126,
            "does not export wasi:http/incoming-handler",
        ),
    ];
    for (args, code, needle) in table {
        let mut all = vec!["serve"];
        all.extend(args.iter().copied());
        wasmgate(&all).expect_code(code).stderr_has(needle);
    }
    drop(busy);
}

#[test]
fn a_handler_that_leaves_an_outbound_request_open_gets_one_summary_line() {
    let upstream = TestServer::http();
    let probe = probe();
    let served = Served::start(&[
        "--allow",
        &upstream.base(),
        "--allow-cidr",
        "127.0.0.1/32",
        probe.to_str().unwrap(),
    ]);
    // Reads its body to the end: nothing is left open, nothing is said.
    let read = get(
        served.addr,
        &format!("/fetch?url={}", upstream.url("/hello")),
    );
    assert_eq!(read.0, 200, "{read:?}");
    // Returns with the response body never read.
    let open = get(
        served.addr,
        &format!("/fetch-open?url={}", upstream.url("/hello")),
    );
    assert_eq!(open, (200, "left open: 200".to_string()));
    served.wait_stderr("[GET /fetch-open #2] 1 outbound request was still open when the handler ended; it was closed");
    let stderr = served.stderr();
    assert!(
        !stderr.contains("#1]"),
        "a line for the request that read its body:\n{stderr}"
    );
    assert_eq!(
        stderr.matches("still open").count(),
        1,
        "one line, not one per request:\n{stderr}"
    );
}

#[test]
fn every_incoming_request_goes_through_the_proxy_with_the_injected_header() {
    const SECRET: &str = "serve-secret-4242";
    let upstream = TestServer::http();
    let proxy = wasmgate_test_support::TestProxy::open();
    let dir = TempDir::new();
    let secret = dir.write("key", format!("{SECRET}\n"));
    let inject = format!(
        "{} x-api-key: ${{file:{}}}",
        upstream.base(),
        secret.display()
    );
    let probe = probe();
    let mut served = Served::start(&[
        "-v",
        "--allow",
        &upstream.base(),
        "--proxy",
        &proxy.url(),
        "--inject",
        &inject,
        probe.to_str().unwrap(),
    ]);
    let addr = served.addr;
    // Two incoming requests: each handler's client shares the pool and the settings.
    for _ in 0..2 {
        let (status, body) = get(addr, &format!("/fetch?url={}", upstream.url("/headers")));
        assert_eq!(status, 200, "{body}");
        // The upstream echoes the request headers it received.
        assert!(body.contains(&format!("x-api-key: {SECRET}")), "{body}");
    }
    let seen = proxy.seen();
    assert_eq!(seen[0].line, format!("GET {}", upstream.url("/headers")));
    served.wait_stderr("wasmgate: [GET /fetch #2] allowed GET ");
    let stderr = served.stderr();
    assert!(
        stderr.contains(&format!("(via proxy {}, injected x-api-key)", proxy.addr())),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET), "{stderr}");
    served.signal("TERM");
    assert_eq!(served.wait_exit(), Some(0));
}
