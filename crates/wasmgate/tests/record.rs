//! Recording guest requests as HAR files and replaying them offline, through the library
//! (`RunnerBuilder::record` / `::replay`), with both guest kinds: the raw `wasi:http`
//! component `http-client` and the Rust guest crate's client on wasm32-wasip1 (host ABI).
//! Every file written is checked against the HAR 1.2 structure.

mod common;
use common::{Collect, Ran};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use wasmgate::{
    Decision, GuestConfig, OutboundErrorKind, RecordOptions, Recorder, Replay, ReplayMissing,
    Runner, Stdio,
};
use wasmgate_policy::{AllowRule, Limits, Policy};
use wasmgate_test_support::rust_guest::rust_guest;
use wasmgate_test_support::{Guest, JSON_DOCUMENT, TestServer, check_har, guest};

/// A directory of its own per test, removed when the test ends.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("wasmgate-record-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }
    fn join(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A runner under `rules` that records and/or replays.
fn runner(
    rules: &[String],
    record: Option<Recorder>,
    replay: Option<Replay>,
) -> (Runner, Arc<Collect>) {
    let rules = rules.iter().map(|r| AllowRule::parse(r).unwrap()).collect();
    let events = Arc::new(Collect::default());
    let mut b = Runner::builder()
        .cache_dir(wasmgate_test_support::test_cache_dir())
        .policy(Policy::new(rules, vec![], Limits::default()))
        .event_sink(events.clone());
    if let Some(r) = record {
        b = b.record(r);
    }
    if let Some(r) = replay {
        b = b.replay(r);
    }
    (b.build().expect("runner"), events)
}

async fn run(runner: &Runner, events: &Collect, wasm: &Path, args: &[&str]) -> Ran {
    events.0.lock().unwrap().clear();
    let config = GuestConfig {
        program_name: "guest.wasm".into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        stdio: Stdio::Capture,
        timeout: Some(Duration::from_secs(120)),
        ..GuestConfig::default()
    };
    let outcome = runner.run_file(wasm, &config).await.expect("guest loads");
    Ran {
        code: outcome.status,
        stdout: String::from_utf8_lossy(&outcome.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&outcome.stderr).into_owned(),
        events: events.0.lock().unwrap().clone(),
    }
}

fn recorder(path: &Path) -> Recorder {
    Recorder::create(path, RecordOptions::default()).unwrap()
}

/// The file's entries, after checking it is a HAR 1.2 document.
fn entries(path: &Path) -> Vec<Value> {
    let text = std::fs::read(path).expect("the HAR file exists");
    let doc: Value = serde_json::from_slice(&text).expect("the HAR file is JSON");
    check_har(&doc)
}

async fn rust_client(target: &'static str) -> PathBuf {
    tokio::task::spawn_blocking(move || rust_guest("rust-guest-client", target))
        .await
        .unwrap()
}

/// Records one run against a live server, stops the server, replays: same output.
async fn record_then_replay(wasm: &Path, args: impl Fn(&str) -> Vec<String>, origin: &str) {
    let dir = Dir::new(&format!("rr-{origin}"));
    let har = dir.join("run.har");
    let server = TestServer::http();
    let rules = vec![server.base()];
    let args = args(&server.base());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (rec, events) = runner(&rules, Some(recorder(&har)), None);
    let recorded = run(&rec, &events, wasm, &args).await;
    recorded.ok();
    drop(server);

    let e = entries(&har);
    assert_eq!(e.len(), 1, "{e:?}");
    let w = &e[0]["_wasmgate"];
    assert_eq!(w["decision"], "allowed");
    assert_eq!(w["origin"], origin);
    assert_eq!(w["rule"], rules[0]);
    assert_eq!(e[0]["serverIPAddress"], "127.0.0.1");
    assert!(e[0]["connection"].as_str().is_some());
    assert_eq!(e[0]["response"]["status"], 200);

    let (rep, events) = runner(&rules, None, Some(Replay::load(&har).unwrap()));
    let replayed = run(&rep, &events, wasm, &args).await;
    replayed.ok();
    assert_eq!(
        replayed.stdout, recorded.stdout,
        "the replay's output differs"
    );
    assert_eq!(replayed.events.len(), 1);
    // Nothing went out: no address, and the server is gone anyway.
    assert_eq!(replayed.events[0].addr, None);
    assert_eq!(replayed.events[0].status, Some(200));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_component_run_replays_offline_with_the_same_output() {
    let wasm = guest(Guest::HttpClient);
    record_then_replay(
        &wasm,
        |base| vec!["get".into(), format!("{base}/json?q=1&r=two")],
        "wasi-http",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_core_module_run_replays_offline_with_the_same_output() {
    let wasm = rust_client("wasm32-wasip1").await;
    record_then_replay(
        &wasm,
        |base| vec!["post".into(), format!("{base}/echo"), "5000".into()],
        "host-abi",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_has_the_request_the_response_and_redacts_secrets() {
    let dir = Dir::new("redact");
    let har = dir.join("run.har");
    let server = TestServer::http();
    let options = RecordOptions {
        redact: vec!["X-Api-Key".into()],
        ..RecordOptions::default()
    };
    let (r, events) = runner(
        &[server.base()],
        Some(Recorder::create(&har, options).unwrap()),
        None,
    );
    let url = server.url("/json?q=a%20b&n=1");
    let ran = run(
        &r,
        &events,
        &guest(Guest::HttpClient),
        &[
            "get",
            &url,
            "-H",
            "authorization:Bearer SECRET-ONE",
            "-H",
            "x-api-key:SECRET-TWO",
            "-H",
            "cookie:session=SECRET-THREE",
            "-H",
            "x-visible:shown",
        ],
    )
    .await;
    ran.ok();
    let text = std::fs::read_to_string(&har).unwrap();
    for secret in ["SECRET-ONE", "SECRET-TWO", "SECRET-THREE"] {
        assert!(!text.contains(secret), "{secret} is in the file:\n{text}");
    }
    let e = &entries(&har)[0];
    let req = &e["request"];
    assert_eq!(req["method"], "GET");
    assert_eq!(req["url"], url);
    let header = |name: &str| {
        req["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"] == name)
            .map(|h| h["value"].as_str().unwrap().to_string())
    };
    assert_eq!(
        header("authorization").as_deref(),
        Some(wasmgate::record::REDACTED)
    );
    assert_eq!(
        header("x-api-key").as_deref(),
        Some(wasmgate::record::REDACTED)
    );
    assert_eq!(header("x-visible").as_deref(), Some("shown"));
    let query = &req["queryString"];
    assert_eq!(query[0]["name"], "q");
    assert_eq!(query[0]["value"], "a b");
    let resp = &e["response"];
    assert_eq!(resp["statusText"], "OK");
    assert_eq!(resp["content"]["mimeType"], "application/json");
    assert_eq!(resp["content"]["text"], JSON_DOCUMENT);
    assert_eq!(resp["content"]["size"], JSON_DOCUMENT.len());
    assert!(e["timings"]["wait"].as_f64().unwrap() >= 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_and_failed_requests_are_recorded_and_failures_replay() {
    let dir = Dir::new("fail");
    let har = dir.join("run.har");
    // A port nothing listens on: bound, then released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let allowed = format!("http://127.0.0.1:{port}");
    let wasm = guest(Guest::HttpClient);
    let (r, events) = runner(std::slice::from_ref(&allowed), Some(recorder(&har)), None);
    let refused = run(&r, &events, &wasm, &["get", &format!("{allowed}/x")]).await;
    refused.failed();
    let denied = run(&r, &events, &wasm, &["get", "http://127.0.0.1:9/secret"]).await;
    denied.failed();

    let e = entries(&har);
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0]["response"]["status"], 0);
    assert_eq!(e[0]["_wasmgate"]["decision"], "allowed");
    assert_eq!(e[0]["_wasmgate"]["errorKind"], "connection-refused");
    assert!(
        e[0]["response"]["_error"]
            .as_str()
            .unwrap()
            .contains("failed")
    );
    assert_eq!(e[1]["response"]["status"], 0);
    assert_eq!(e[1]["_wasmgate"]["decision"], "denied");
    assert_eq!(e[1]["_wasmgate"]["errorKind"], "denied");
    assert!(e[1].get("serverIPAddress").is_none());

    // The recorded failure fails the same way on replay; the denial is the policy's.
    let (rep, events) = runner(
        std::slice::from_ref(&allowed),
        None,
        Some(Replay::load(&har).unwrap()),
    );
    let again = run(&rep, &events, &wasm, &["get", &format!("{allowed}/x")]).await;
    again.failed();
    assert_eq!(again.error_line(), refused.error_line());
    let denied_again = run(&rep, &events, &wasm, &["get", "http://127.0.0.1:9/secret"]).await;
    assert_eq!(denied_again.error_line(), denied.error_line());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_body_is_kept_only_up_to_the_cap_and_streams_whole() {
    let dir = Dir::new("big");
    let har = dir.join("run.har");
    let server = TestServer::http();
    let size: u64 = 8 * 1024 * 1024;
    let options = RecordOptions {
        max_body: 1000,
        ..RecordOptions::default()
    };
    let (r, events) = runner(
        &[server.base()],
        Some(Recorder::create(&har, options).unwrap()),
        None,
    );
    let ran = run(
        &r,
        &events,
        &guest(Guest::HttpClient),
        &["post", &server.url("/echo"), &size.to_string()],
    )
    .await;
    ran.ok();
    // The guest got all of it: recording does not hold the stream back.
    assert_eq!(ran.number("body-bytes: "), size);
    assert_eq!(server.stats().body_bytes.load(Ordering::SeqCst), size);
    // The file holds the cap of each body, not the bodies.
    assert!(std::fs::metadata(&har).unwrap().len() < 16 * 1024);
    let e = &entries(&har)[0];
    let post = &e["request"]["postData"];
    assert_eq!(post["text"].as_str().unwrap().len(), 1000);
    assert_eq!(post["_truncated"], true);
    assert_eq!(e["request"]["bodySize"], size);
    let content = &e["response"]["content"];
    assert_eq!(content["size"], size);
    assert_eq!(content["text"].as_str().unwrap().len(), 1000);
    assert_eq!(content["_truncated"], true);
    assert!(content["comment"].as_str().unwrap().contains("truncated"));
}

/// A replay file written by hand: `entries` as (method, url, request body, response body).
fn write_har(path: &Path, entries: &[(&str, &str, Option<&str>, &str)]) {
    let entries: Vec<Value> = entries
        .iter()
        .map(|(method, url, body, response)| {
            let mut request = serde_json::json!({"method": method, "url": url,
                "httpVersion": "HTTP/1.1", "cookies": [], "headers": [], "queryString": [],
                "headersSize": -1, "bodySize": -1});
            if let Some(b) = body {
                request["postData"] = serde_json::json!({"mimeType": "", "text": b, "params": []});
            }
            serde_json::json!({"startedDateTime": "2026-01-01T00:00:00Z", "time": 1,
                "request": request,
                "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                    "cookies": [], "headers": [{"name": "x-recorded", "value": "yes"}],
                    "content": {"size": response.len(), "mimeType": "text/plain", "text": response},
                    "redirectURL": "", "headersSize": -1, "bodySize": response.len()},
                "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}})
        })
        .collect();
    let doc = serde_json::json!({"log": {"version": "1.2",
        "creator": {"name": "test", "version": "1"}, "entries": entries}});
    check_har(&doc);
    std::fs::write(path, serde_json::to_vec(&doc).unwrap()).unwrap();
}

/// No server: these only ever replay.
const BASE: &str = "http://127.0.0.1:9";

#[tokio::test(flavor = "multi_thread")]
async fn identical_requests_get_their_entries_in_order_then_fail() {
    let dir = Dir::new("order");
    let har = dir.join("r.har");
    let url = format!("{BASE}/n");
    write_har(
        &har,
        &[("GET", &url, None, "first"), ("GET", &url, None, "second")],
    );
    let (rep, events) = runner(&[BASE.into()], None, Some(Replay::load(&har).unwrap()));
    let wasm = guest(Guest::HttpClient);
    let one = run(&rep, &events, &wasm, &["get", &url]).await;
    assert_eq!(one.ok().body(), "first");
    one.has_line("header: x-recorded: yes");
    let two = run(&rep, &events, &wasm, &["get", &url]).await;
    assert_eq!(two.ok().body(), "second");
    let three = run(&rep, &events, &wasm, &["get", &url]).await;
    three.failed();
    let err = three.events[0].error.as_ref().unwrap();
    assert_eq!(err.kind(), OutboundErrorKind::NotRecorded);
    assert!(
        err.to_string().contains("all 2 entries recorded for it"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_request_body_chooses_between_entries_with_the_same_url() {
    let dir = Dir::new("body");
    let har = dir.join("r.har");
    let url = format!("{BASE}/echo");
    let (ten, twenty) = (common::pattern(10), common::pattern(20));
    write_har(
        &har,
        &[
            ("POST", &url, Some(&twenty), "got twenty"),
            ("POST", &url, Some(&ten), "got ten"),
        ],
    );
    let (rep, events) = runner(&[BASE.into()], None, Some(Replay::load(&har).unwrap()));
    let wasm = guest(Guest::HttpClient);
    let ran = run(&rep, &events, &wasm, &["post", &url, "10"]).await;
    assert_eq!(ran.ok().body(), "got ten");
    let ran = run(&rep, &events, &wasm, &["post", &url, "20"]).await;
    assert_eq!(ran.ok().body(), "got twenty");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unmatched_request_fails_naming_the_nearest_entry() {
    let dir = Dir::new("unmatched");
    let har = dir.join("r.har");
    write_har(&har, &[("GET", &format!("{BASE}/users/1"), None, "one")]);
    let (rep, events) = runner(&[BASE.into()], None, Some(Replay::load(&har).unwrap()));
    for wasm in [guest(Guest::HttpClient), rust_client("wasm32-wasip1").await] {
        let ran = run(&rep, &events, &wasm, &["get", &format!("{BASE}/users/2")]).await;
        ran.failed();
        let e = &ran.events[0];
        assert_eq!(e.decision, Decision::Allowed);
        let err = e.error.as_ref().unwrap();
        assert_eq!(err.kind(), OutboundErrorKind::NotRecorded);
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("GET {BASE}/users/2 not replayed: no entry in ")),
            "{text}"
        );
        assert!(
            text.contains(&format!("nearest recorded: GET {BASE}/users/1 (entry 0)")),
            "{text}"
        );
        assert!(text.contains("--replay-missing=network"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_policy_still_denies_a_recorded_request() {
    let dir = Dir::new("deny");
    let har = dir.join("r.har");
    let url = format!("{BASE}/admin");
    write_har(&har, &[("GET", &url, None, "secret")]);
    let (rep, events) = runner(
        &[format!("{BASE}/public")],
        None,
        Some(Replay::load(&har).unwrap()),
    );
    let ran = run(&rep, &events, &guest(Guest::HttpClient), &["get", &url]).await;
    ran.guest_error("HttpRequestDenied");
    assert_eq!(ran.events[0].decision, Decision::Denied);
    assert!(!ran.stdout.contains("secret"));
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_requests_can_go_to_the_network_and_join_the_recording() {
    let dir = Dir::new("network");
    let har = dir.join("r.har");
    let server = TestServer::http();
    let recorded = server.url("/recorded");
    write_har(&har, &[("GET", &recorded, None, "from the file")]);
    let replay = Replay::load(&har).unwrap().missing(ReplayMissing::Network);
    let rec = Recorder::continuing(&har, RecordOptions::default(), &replay).unwrap();
    let (r, events) = runner(&[server.base()], Some(rec), Some(replay));
    let wasm = guest(Guest::HttpClient);
    let from_file = run(&r, &events, &wasm, &["get", &recorded]).await;
    assert_eq!(from_file.ok().body(), "from the file");
    let live = run(&r, &events, &wasm, &["get", &server.url("/hello")]).await;
    assert_eq!(live.ok().body(), "hello from the test server");
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 1);
    // The file: what it had, then the request that went out (not the replayed one again).
    let e = entries(&har);
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0]["request"]["url"], recorded);
    assert_eq!(e[1]["request"]["url"], server.url("/hello"));
    assert_eq!(
        e[1]["response"]["content"]["text"],
        "hello from the test server"
    );
}

#[test]
fn a_file_that_is_not_har_is_refused_with_its_name() {
    let dir = Dir::new("bad");
    let path = dir.join("x.har");
    std::fs::write(&path, "{\"log\": 3}").unwrap();
    let e = Replay::load(&path).unwrap_err().to_string();
    assert!(
        e.contains(&format!("--replay {}: not a HAR file", path.display())),
        "{e}"
    );
    let e = Replay::load(&dir.join("missing.har"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot read it"), "{e}");
    let bad = RecordOptions {
        redact: vec!["bad header".into()],
        ..RecordOptions::default()
    };
    let e = Recorder::create(&dir.join("r.har"), bad)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("--redact-header \"bad header\": not a header name"),
        "{e}"
    );
}
