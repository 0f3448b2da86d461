//! Requests wasi-http itself refuses before wasmgate's hook (schemes other than exactly
//! `http`/`https`, no authority) are still reported: one denied event of kind
//! `invalid-request`, and the guest gets `HTTP-request-URI-invalid`.

use super::harness::*;
use std::sync::atomic::Ordering;
use wasmgate::{Decision, OutboundErrorKind};

#[tokio::test(flavor = "multi_thread")]
async fn requests_wasi_http_refuses_are_reported() {
    let server = TestServer::http();
    let addr = server.addr();
    let cases: Vec<(String, Vec<&str>, &str)> = vec![
        (format!("ftp://{addr}/x"), vec![], "scheme \"ftp\""),
        (
            "file://localhost/etc/passwd".into(),
            vec![],
            "scheme \"file\"",
        ),
        (format!("gopher://{addr}/"), vec![], "scheme \"gopher\""),
        (
            format!("HTTP://{addr}/hello"),
            vec!["--verbatim-scheme"],
            "scheme \"HTTP\"",
        ),
        (
            format!("http://{addr}/hello"),
            vec!["--no-authority"],
            "no host",
        ),
    ];
    for (url, flags, why) in cases {
        let mut args = vec!["get", url.as_str()];
        args.extend(flags);
        let ran = Setup::allow(rule_for(&server))
            .run(Guest::HttpClient, &args)
            .await;
        ran.guest_error("HttpRequestUriInvalid");
        assert_eq!(ran.events.len(), 1, "{url}: {:?}", ran.events);
        let event = &ran.events[0];
        assert_eq!(event.decision, Decision::Denied, "{url}");
        let err = event.error.as_ref().unwrap();
        assert_eq!(err.kind(), OutboundErrorKind::InvalidRequest, "{url}");
        assert!(err.to_string().contains(why), "{url}: {err}");
    }
    assert_eq!(server.stats().connections.load(Ordering::SeqCst), 0);
}

/// The wrapper refuses only what wasi-http would: `other("http")` is plain http to it.
#[tokio::test(flavor = "multi_thread")]
async fn a_lower_case_scheme_sent_as_other_still_goes_out() {
    let server = TestServer::http();
    let ran = Setup::allow(rule_for(&server))
        .run(
            Guest::HttpClient,
            &["get", &server.url("/hello"), "--verbatim-scheme"],
        )
        .await;
    ran.ok();
    assert_eq!(ran.events.len(), 1);
    assert_eq!(ran.events[0].decision, Decision::Allowed);
    assert_eq!(ran.events[0].status, Some(200));
}
