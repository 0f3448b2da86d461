//! Recording and replaying a server's outbound requests: every handler's requests go to
//! one HAR file, each entry naming its incoming request, and replay answers them with the
//! upstream gone.

use crate::support::{Running, get, policy, probe};
use wasmgate::{RecordOptions, Recorder, Replay, ServeConfig};
use wasmgate_test_support::{TestServer, check_har};

#[test]
fn a_servers_outbound_requests_are_recorded_and_replayed() {
    let dir = std::env::temp_dir().join(format!("wasmgate-serve-har-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let har = dir.join("serve.har");
    let upstream = TestServer::http();
    let rules = [upstream.base()];
    let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
    let fetch = format!("/fetch?url={}", upstream.url("/hello"));

    let recorder = Recorder::create(&har, RecordOptions::default()).unwrap();
    let server = Running::start_with(probe(), policy(&rules), ServeConfig::default(), |b| {
        b.record(recorder)
    });
    for _ in 0..2 {
        let a = get(server.addr, &fetch);
        assert_eq!(a.body, "fetched 200: hello from the test server", "{a:?}");
    }
    server.shutdown();
    drop(upstream);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&har).unwrap()).unwrap();
    let entries = check_har(&doc);
    assert_eq!(entries.len(), 2, "{entries:?}");
    let mut incoming: Vec<&str> = entries
        .iter()
        .map(|e| e["_wasmgate"]["incoming"].as_str().unwrap())
        .collect();
    incoming.sort();
    assert_eq!(incoming, ["GET /fetch #1", "GET /fetch #2"]);

    // The upstream is gone: the replay answers both, then has nothing left.
    let replay = Replay::load(&har).unwrap();
    let server = Running::start_with(probe(), policy(&rules), ServeConfig::default(), |b| {
        b.replay(replay)
    });
    for _ in 0..2 {
        let a = get(server.addr, &fetch);
        assert_eq!(a.body, "fetched 200: hello from the test server", "{a:?}");
    }
    let third = get(server.addr, &fetch);
    assert_eq!(third.status, 502, "{third:?}");
    assert!(third.body.contains("not replayed"), "{third:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
