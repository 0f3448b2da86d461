//! The Go guest library (`guest/go`) against real servers on 127.0.0.1: Go programs
//! built with mainline Go for `GOOS=wasip1` make HTTP requests through the host ABI,
//! run through the library with a policy, captured stdio and collected events.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
mod common;
use common::*;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmgate::{Decision, Origin};
use wasmgate_test_support::TestServer;
use wasmgate_test_support::go::{go_command, go_guest, go_module_dir};

impl Run {
    async fn go(self, program: &str, args: &[&str]) -> Ran {
        // Built outside the async runtime's worker (it can take a while the first time).
        let program = program.to_string();
        let wasm = tokio::task::spawn_blocking(move || go_guest(&program))
            .await
            .unwrap();
        self.run(&wasm, args).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn get_returns_status_headers_and_body() {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .go("httpclient", &["get", &server.url("/hello")])
        .await;
    ran.ok()
        .has_line("status: 200")
        .has_line("header: content-length: 26")
        .has_line("body-bytes: 26");
    assert_eq!(ran.body(), "hello from the test server");
    assert_eq!(ran.events.len(), 1, "{:?}", ran.events);
    let e = &ran.events[0];
    assert_eq!(e.origin, Origin::HostAbi);
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.status, Some(200));
    assert_eq!(e.bytes_in, 26);
    assert!(e.error.is_none(), "{:?}", e.error);
}

#[tokio::test(flavor = "multi_thread")]
async fn error_statuses_come_back_with_their_bodies() {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .go("httpclient", &["get", &server.url("/status/503")])
        .await;
    ran.ok().has_line("status: 503");
    assert_eq!(ran.body(), "status 503 body");
}

#[tokio::test(flavor = "multi_thread")]
async fn post_streams_a_body_from_a_reader_and_gets_it_echoed() {
    let server = TestServer::http();
    let size = 3 * 1024 * 1024 + 7;
    let ran = Run::allow(server.base())
        .go(
            "httpclient",
            &["post", &server.url("/echo"), &size.to_string(), "10000"],
        )
        .await;
    ran.ok()
        .has_line("status: 200")
        .has_line("header: x-test-method: POST")
        .has_line(&format!("body-bytes: {size}"));
    assert!(
        ran.body() == pattern(size),
        "the echoed body differs from what was sent"
    );
    assert_eq!(
        server.stats().body_bytes.load(Ordering::SeqCst),
        size as u64
    );
    assert_eq!(ran.events[0].bytes_out, size as u64);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_of_known_length_is_sent_with_content_length() {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .go(
            "httpclient",
            &["post", &server.url("/headers"), "100", "--content-length"],
        )
        .await;
    ran.ok().has_line("status: 200");
    let sent: Vec<&str> = ran.body().lines().collect();
    assert!(sent.contains(&"content-length: 100"), "{sent:?}");
    assert!(
        !sent.iter().any(|l| l.starts_with("transfer-encoding")),
        "{sent:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn headers_travel_both_ways() {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .go("httpclient", &["headers", &server.url("/headers")])
        .await;
    ran.ok()
        .has_line("status: 200")
        .has_line("header: x-test-reply: yes");
    let sent: Vec<&str> = ran.body().lines().collect();
    assert!(sent.contains(&"x-from-guest: 42"), "{sent:?}");
    assert!(sent.contains(&"user-agent: Go-http-client/1.1"), "{sent:?}");
    assert!(
        !sent.iter().any(|l| l.starts_with("connection:")),
        "the library must not add a Connection header: {sent:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_followed_by_go_each_hop_checked_by_the_policy() {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .go(
            "httpclient",
            &["get", &server.url("/redirect/302?to=/hello")],
        )
        .await;
    ran.ok().has_line("status: 200");
    assert_eq!(ran.body(), "hello from the test server");
    // The host did not follow the redirect itself: two requests, two events.
    let statuses: Vec<_> = ran.events.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [Some(302), Some(200)], "{:?}", ran.events);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_response_streams_in_bounded_memory() {
    let server = TestServer::http();
    let size: u64 = 100 * 1024 * 1024 + 13;
    // A guest that buffered the body would need more memory than this and trap.
    let ran = Run::allow(server.base())
        .max_memory(64 * 1024 * 1024)
        .go(
            "httpclient",
            &["download", &server.url(&format!("/chunked/{size}"))],
        )
        .await;
    ran.ok()
        .has_line("status: 200")
        .has_line(&format!("body-bytes: {size}"));
    assert_eq!(ran.events[0].bytes_in, size);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_request_is_a_typed_go_error_with_the_hosts_message() {
    let server = TestServer::http();
    let ran = Run::deny_all()
        .go("httpclient", &["get", &server.url("/hello")])
        .await;
    ran.failed();
    let line = ran
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line:\n{}", ran.stderr));
    assert!(line.starts_with("error: -20 denied GET "), "{line}");
    assert!(
        line.contains(&format!("--allow {}", server.base())),
        "the message should name the flag: {line}"
    );
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 0);
    assert_eq!(ran.events.len(), 1);
    assert_eq!(ran.events[0].decision, Decision::Denied);
}

#[tokio::test(flavor = "multi_thread")]
async fn goroutines_run_requests_concurrently() {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .go(
            "httpclient",
            &["concurrent", &server.url("/slow/200"), "10"],
        )
        .await;
    ran.ok().has_line("ok: 10");
    for i in 0..10 {
        ran.has_line(&format!("result {i}: status 200"));
    }
    assert_eq!(server.stats().max_in_flight.load(Ordering::SeqCst), 10);
    // Reported, not asserted: the overlap above is the proof; wall time under load is
    // the benchmark's business.
    let elapsed = ran.number("elapsed-ms: ");
    eprintln!("10 concurrent requests to /slow/200: {elapsed} ms");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_context_deadline_cancels_the_request() {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .go("httpclient", &["timeout", &server.url("/slow/5000"), "300"])
        .await;
    ran.failed();
    assert!(
        ran.stderr
            .lines()
            .any(|l| l.starts_with("error: ctx ") && l.contains("deadline exceeded")),
        "{}",
        ran.stderr
    );
    let elapsed = ran.number("elapsed-ms: ");
    assert!((300..3000).contains(&elapsed), "took {elapsed} ms");
    assert_eq!(ran.events.len(), 1, "{:?}", ran.events);
    assert_eq!(ran.events[0].status, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn sequential_requests_reuse_the_transport() {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .go("httpclient", &["seq", &server.url("/hello"), "20"])
        .await;
    ran.ok().has_line("ok: 20");
    assert_eq!(ran.events.len(), 20);
}

/// A one-route HTTP/1.1 server answering every request with a fixed JSON document.
struct JsonServer {
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const JSON: &str =
    r#"{"name":"wasmgate","version":1,"tags":["wasm","http","go"],"extra":{"ignored":true}}"#;

impl JsonServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let _ = Self::answer(conn);
                }
            }
        });
        Self {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    fn answer(mut conn: TcpStream) -> std::io::Result<()> {
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if conn.read(&mut byte)? == 0 {
                return Ok(());
            }
            head.push(byte[0]);
        }
        write!(
            conn,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{JSON}",
            JSON.len()
        )
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for JsonServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ordinary_net_http_program_works_after_install() {
    let server = JsonServer::start();
    let url = format!("{}/release.json", server.base());
    let ran = Run::allow(server.base()).go("jsonapp", &[&url]).await;
    ran.ok()
        .has_line("name: wasmgate")
        .has_line("version: 1")
        .has_line("tags: 3");

    // Without the rule, the same program fails with wasmgate's explanation.
    let ran = Run::deny_all().go("jsonapp", &[&url]).await;
    ran.failed();
    assert!(
        ran.stderr
            .contains(&format!("to allow it, add: --allow {}", server.base())),
        "{}",
        ran.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_example_runs() {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .go("examples/get", &[&server.url("/hello")])
        .await;
    ran.ok().has_line("200 OK 26 bytes");
}

/// `gofmt`, `go vet` (for wasip1 and natively) and the library's Go unit tests.
#[test]
fn go_code_is_formatted_vetted_and_unit_tested() {
    let run = |args: &[&str], wasip1: bool| {
        let mut cmd = go_command();
        cmd.args(args);
        if wasip1 {
            cmd.env("GOOS", "wasip1").env("GOARCH", "wasm");
        }
        let out = cmd.output().expect("run go");
        assert!(
            out.status.success(),
            "go {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    run(&["vet", "./..."], true);
    run(&["vet", "./..."], false);
    run(&["test", "./..."], false);
    let goroot = run(&["env", "GOROOT"], false);
    let out = std::process::Command::new(Path::new(&goroot).join("bin/gofmt"))
        .arg("-l")
        .arg(".")
        .current_dir(go_module_dir())
        .output()
        .expect("run gofmt");
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "gofmt -l lists unformatted files:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `resp.Proto` is the version on the wire (ABI `response_version`): HTTP/2.0 over
/// TLS with ALPN h2, HTTP/1.1 over plain http.
#[tokio::test(flavor = "multi_thread")]
async fn resp_proto_is_the_version_on_the_wire() {
    let plain = TestServer::http();
    let ran = Run::allow(plain.base())
        .go("httpclient", &["get", &plain.url("/hello")])
        .await;
    ran.ok().has_line("proto: HTTP/1.1");

    let dir = std::env::temp_dir().join(format!("wasmgate-abi-go-h2-{}", std::process::id()));
    let ca = wasmgate_test_support::TestCa::new(&dir);
    let tls = TestServer::https(ca.server_config.clone());
    let wasm = tokio::task::spawn_blocking(|| go_guest("httpclient"))
        .await
        .unwrap();
    let runner = wasmgate::Runner::builder()
        .cache_dir(wasmgate_test_support::test_cache_dir())
        .policy(wasmgate_policy::Policy::new(
            vec![wasmgate_policy::AllowRule::parse(&tls.base()).unwrap()],
            vec![],
            wasmgate_policy::Limits::default(),
        ))
        .ca_file(&ca.ca_pem)
        .build()
        .expect("runner");
    let config = wasmgate::GuestConfig {
        program_name: "guest.wasm".into(),
        args: vec!["get".into(), tls.url("/hello")],
        stdio: wasmgate::Stdio::Capture,
        timeout: Some(Duration::from_secs(180)),
        ..wasmgate::GuestConfig::default()
    };
    let outcome = runner.run_file(&wasm, &config).await.expect("guest runs");
    let stdout = String::from_utf8_lossy(&outcome.stdout);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        stdout.lines().any(|l| l == "proto: HTTP/2.0") && stdout.contains("status: 200"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&outcome.stderr)
    );
}

/// Mainline Go: after `Install` the default transport stays a `*http.Transport` and
/// routes through wasmgate; `Use` brings in transports built from scratch; a bare
/// clone of the default transport goes through wasmgate too, over the dialers
/// `Install` sets (Go's `Clone` drops registered protocols but copies those).
#[tokio::test(flavor = "multi_thread")]
async fn install_and_use_route_std_transports_through_wasmgate() {
    let server = TestServer::http();
    let ran = Run::allow(server.base())
        .go("httpclient", &["transports", &server.url("/hello")])
        .await;
    ran.ok()
        .has_line("default-is-http-transport: true")
        .has_line("default: status 200")
        .has_line("use-new: status 200")
        .has_line("use-nil: status 200")
        .has_line("use-clone: status 200")
        .has_line("bare-clone: status 200");
    assert_eq!(ran.events.len(), 5, "{:?}", ran.events);
    for e in &ran.events {
        assert_eq!(e.origin, Origin::HostAbi);
        assert_eq!(e.url, server.url("/hello"));
        assert_eq!(e.status, Some(200));
    }
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 5);
    assert!(!ran.stderr.contains("HTTP/2"), "{}", ran.stderr);
}

/// Clones of the default transport taken after `Install`, bare and tuned, without
/// `Use`: GET, a streamed POST echoed back, 20 requests on kept-alive connections,
/// and a denial on a reused connection, which arrives once, as the typed error.
#[tokio::test(flavor = "multi_thread")]
async fn clones_of_the_default_transport_go_through_wasmgate() {
    let server = TestServer::http();
    let size: usize = 3 * 1024 * 1024 + 7;
    // /headers is left out of the policy: the denied request.
    let ran = Run {
        rules: vec![server.url("/hello"), server.url("/echo")],
        max_memory: None,
        egress: Egress::default(),
    }
    .go("httpclient", &["clones", &server.base(), &size.to_string()])
    .await;
    ran.ok();
    let denial = format!("denied GET {}", server.url("/headers"));
    for name in ["bare-clone", "tuned-clone"] {
        ran.has_line(&format!(
            "{name} get: status 200 body hello from the test server"
        ))
        .has_line(&format!("{name} post: status 200 echoed {size} same true"))
        .has_line(&format!("{name} denied-is-denied: true"));
        // One connection per clone, kept alive: every one of the 20 GETs reuses it.
        ran.has_line(&format!("{name} seq: ok 20 reused 20"));
        let line = ran
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} denied: ")))
            .unwrap();
        assert!(
            line.starts_with(&format!("{name} denied: error -20 {denial}")),
            "{line}"
        );
    }
    // Every request the program made, once, in order; the server saw the allowed ones.
    let mut want = Vec::new();
    for _ in 0..2 {
        want.push(("GET", server.url("/hello"), Decision::Allowed));
        want.push(("POST", server.url("/echo"), Decision::Allowed));
        want.extend((0..20).map(|_| ("GET", server.url("/hello"), Decision::Allowed)));
        want.push(("GET", server.url("/headers"), Decision::Denied));
    }
    let got: Vec<_> = ran
        .events
        .iter()
        .map(|e| (e.method.as_str(), e.url.clone(), e.decision))
        .collect();
    assert_eq!(got, want);
    assert!(ran.events.iter().all(|e| e.origin == Origin::HostAbi));
    let posts: Vec<_> = ran.events.iter().filter(|e| e.method == "POST").collect();
    assert!(
        posts
            .iter()
            .all(|e| e.bytes_out == size as u64 && e.bytes_in == size as u64),
        "{posts:?}"
    );
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 44);
    assert_eq!(
        server.stats().body_bytes.load(Ordering::SeqCst),
        2 * size as u64
    );
}

/// A bare clone reaches an https server: the transport takes the bridge's connection
/// for TLS already done (`DialTLSContext`), and the host does the TLS with the CA it
/// was given.
#[tokio::test(flavor = "multi_thread")]
async fn a_clone_reaches_https_servers_with_the_hosts_tls() {
    let dir =
        std::env::temp_dir().join(format!("wasmgate-abi-go-clone-tls-{}", std::process::id()));
    let ca = wasmgate_test_support::TestCa::new(&dir);
    let tls = TestServer::https(ca.server_config.clone());
    let wasm = tokio::task::spawn_blocking(|| go_guest("httpclient"))
        .await
        .unwrap();
    let events = Arc::new(Collect::default());
    let runner = wasmgate::Runner::builder()
        .cache_dir(wasmgate_test_support::test_cache_dir())
        .policy(wasmgate_policy::Policy::new(
            vec![wasmgate_policy::AllowRule::parse(&tls.base()).unwrap()],
            vec![],
            wasmgate_policy::Limits::default(),
        ))
        .ca_file(&ca.ca_pem)
        .event_sink(events.clone())
        .build()
        .expect("runner");
    let config = wasmgate::GuestConfig {
        program_name: "guest.wasm".into(),
        args: vec!["transports".into(), tls.url("/hello")],
        stdio: wasmgate::Stdio::Capture,
        timeout: Some(Duration::from_secs(180)),
        ..wasmgate::GuestConfig::default()
    };
    let outcome = runner.run_file(&wasm, &config).await.expect("guest runs");
    let stdout = String::from_utf8_lossy(&outcome.stdout);
    let _ = std::fs::remove_dir_all(&dir);
    for name in ["default", "use-new", "use-nil", "use-clone", "bare-clone"] {
        assert!(
            stdout.lines().any(|l| l == format!("{name}: status 200")),
            "{name}:\n{stdout}\n{}",
            String::from_utf8_lossy(&outcome.stderr)
        );
    }
    let events = events.0.lock().unwrap().clone();
    assert_eq!(events.len(), 5, "{events:?}");
    for e in &events {
        assert_eq!(e.origin, Origin::HostAbi);
        assert_eq!(e.url, tls.url("/hello"));
        assert_eq!(e.status, Some(200));
    }
    assert_eq!(tls.stats().requests.load(Ordering::SeqCst), 5);
}

/// Through a clone too, a large response streams in bounded guest memory, and a
/// context deadline cancels the request in the host (net/http closes the bridge's
/// connection).
#[tokio::test(flavor = "multi_thread")]
async fn through_a_clone_bodies_stream_in_bounded_memory_and_deadlines_cancel() {
    let server = TestServer::http();
    let size: u64 = 100 * 1024 * 1024 + 13;
    let ran = Run::allow(server.base())
        .max_memory(64 * 1024 * 1024)
        .go(
            "httpclient",
            &[
                "download",
                &server.url(&format!("/chunked/{size}")),
                "--clone",
            ],
        )
        .await;
    ran.ok()
        .has_line("status: 200")
        .has_line(&format!("body-bytes: {size}"));
    assert_eq!(ran.events.len(), 1, "{:?}", ran.events);
    assert_eq!(ran.events[0].bytes_in, size);

    let ran = Run::allow(server.base())
        .go(
            "httpclient",
            &["timeout", &server.url("/slow/5000"), "300", "--clone"],
        )
        .await;
    ran.failed();
    let line = ran.error_line();
    assert!(
        line.starts_with("error: ctx ") && line.contains("deadline exceeded"),
        "{line}"
    );
    let elapsed = ran.number("elapsed-ms: ");
    assert!((300..3000).contains(&elapsed), "took {elapsed} ms");
    assert_eq!(ran.events.len(), 1, "{:?}", ran.events);
    assert_eq!(ran.events[0].status, None);
}
