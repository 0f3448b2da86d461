//! Denials on the request path: URL rules, addresses after DNS, and what the guest sees.

use super::harness::*;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use wasmgate::{Decision, OutboundErrorKind, StaticResolver};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

async fn denied(setup: Setup, args: &[&str]) -> Ran {
    let ran = setup.run(Guest::HttpClient, args).await;
    ran.guest_error("HttpRequestDenied");
    assert_eq!(ran.events.len(), 1);
    assert_eq!(ran.events[0].decision, Decision::Denied);
    assert_eq!(
        ran.events[0].error.as_ref().unwrap().kind(),
        OutboundErrorKind::Denied
    );
    ran
}

#[tokio::test(flavor = "multi_thread")]
async fn no_rules_denies_everything_and_nothing_is_sent() {
    let server = TestServer::http();
    let ran = denied(Setup::default(), &["get", &server.url("/hello")]).await;
    let msg = ran.last_error();
    assert!(
        msg.starts_with(&format!("denied GET {}/hello: ", server.base())),
        "{msg}"
    );
    assert!(
        msg.ends_with(&format!("to allow it, add: --allow {}", server.base())),
        "{msg}"
    );
    assert_eq!(server.stats().connections.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn unlisted_host_wrong_scheme_port_method_and_path_are_denied() {
    let server = TestServer::http();
    let port = server.addr().port();
    let hello = server.url("/hello");
    let cases: Vec<(String, Vec<&str>, &str)> = vec![
        (
            format!("http://127.0.0.2:{port}"),
            vec!["get", &hello],
            "--allow http://127.0.0.1:",
        ),
        (
            format!("https://127.0.0.1:{port}"),
            vec!["get", &hello],
            "allows https",
        ),
        (
            format!("http://127.0.0.1:{}", port.wrapping_add(1).max(1)),
            vec!["get", &hello],
            "port",
        ),
        (
            format!("GET http://127.0.0.1:{port}"),
            vec!["post", &hello, "10"],
            "--allow 'POST http://127.0.0.1:",
        ),
        (
            format!("http://127.0.0.1:{port}/api"),
            vec!["get", &hello],
            "/api",
        ),
    ];
    for (rule, args, fragment) in cases {
        let ran = denied(Setup::allow(rule.clone()), &args).await;
        let msg = ran.last_error();
        assert!(msg.contains(fragment), "rule {rule}: {msg}");
    }
    assert_eq!(server.stats().connections.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_resolving_to_loopback_is_refused_then_allowed_with_a_cidr() {
    let server = TestServer::http();
    let port = server.addr().port();
    let url = format!("http://api.wasmgate.test:{port}/hello");
    let resolver = || StaticResolver::new().with("api.wasmgate.test", [ip("127.0.0.1")]);
    let rule = format!("http://api.wasmgate.test:{port}");

    let ran = Setup::allow(rule.clone())
        .resolver(resolver())
        .run(Guest::HttpClient, &["get", &url])
        .await;
    ran.guest_error("DestinationIpProhibited");
    let msg = ran.last_error();
    assert!(msg.contains("127.0.0.1 is loopback"), "{msg}");
    assert!(
        msg.ends_with("to allow it, add: --allow-cidr 127.0.0.1/32"),
        "{msg}"
    );
    assert_eq!(ran.events[0].decision, Decision::Denied);
    assert_eq!(server.stats().connections.load(Ordering::SeqCst), 0);

    let ran = Setup::allow(rule)
        .cidr("127.0.0.1/32")
        .resolver(resolver())
        .run(Guest::HttpClient, &["get", &url])
        .await;
    ran.ok();
    assert!(ran.stdout.ends_with("hello from the test server\n"));
    // The server saw the name the guest used, not the address.
    assert_eq!(ran.events[0].addr, Some(server.addr()));
}

#[tokio::test(flavor = "multi_thread")]
async fn mapped_ipv6_and_metadata_addresses_are_refused() {
    for (addr, range) in [
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "metadata"),
        ("10.1.2.3", "private"),
        ("fd00::1", "unique"),
    ] {
        let resolver = StaticResolver::new().with("sneaky.wasmgate.test", [ip(addr)]);
        let ran = Setup::allow("http://sneaky.wasmgate.test:8080")
            .resolver(resolver)
            .run(
                Guest::HttpClient,
                &["get", "http://sneaky.wasmgate.test:8080/"],
            )
            .await;
        ran.guest_error("DestinationIpProhibited");
        assert!(
            ran.last_error().contains(range),
            "{addr}: {}",
            ran.last_error()
        );
    }
}

/// IPv6 forms that carry a special IPv4 address are refused after DNS, and the
/// message names what they carry; naming the IPv4 address does not opt in the
/// tunnelled forms (6to4, Teredo, ISATAP), only the IPv6 address does.
#[tokio::test(flavor = "multi_thread")]
async fn ipv6_forms_carrying_special_ipv4_are_refused() {
    for (addr, fragment) in [
        ("::ffff:0:127.0.0.1", "(127.0.0.1) is loopback"),
        ("64:ff9b::a01:203", "(10.1.2.3) is private"),
        (
            "2002:a9fe:a9fe::1",
            "(6to4, carrying 169.254.169.254) is cloud metadata",
        ),
        (
            "2001:0:4136:e378:8000:63bf:f5fe:fdfc",
            "(Teredo client, carrying 10.1.2.3) is private",
        ),
        (
            "2001:0:7f00:1::f7f7:f7f7",
            "(Teredo server, carrying 127.0.0.1) is loopback",
        ),
        (
            "2a00:1450:4001:1:0:5efe:6440:1",
            "(ISATAP, carrying 100.64.0.1) is shared carrier-grade NAT",
        ),
        ("64:ff9b:1::808:808", "is NAT64 local-use (64:ff9b:1::/48)"),
    ] {
        let resolver = StaticResolver::new().with("sneaky.wasmgate.test", [ip(addr)]);
        // Covering the carried IPv4 address opts in only the same-host forms,
        // which are refused here for their other payloads.
        let ran = Setup::allow("http://sneaky.wasmgate.test:8080")
            .cidr("100.64.0.0/10")
            .resolver(resolver)
            .run(
                Guest::HttpClient,
                &["get", "http://sneaky.wasmgate.test:8080/"],
            )
            .await;
        ran.guest_error("DestinationIpProhibited");
        let msg = ran.last_error();
        assert!(msg.contains(fragment), "{addr}: {msg}");
        assert!(
            msg.ends_with(&format!("--allow-cidr {}", canonical_net(addr))),
            "{addr}: {msg}"
        );
        assert_eq!(ran.events[0].decision, Decision::Denied, "{addr}");
    }
}

/// The single-address CIDR a denial suggests: the IPv4 address for same-host forms,
/// else the IPv6 address itself.
fn canonical_net(addr: &str) -> String {
    let canonical = wasmgate_policy::canonical_ip(ip(addr));
    wasmgate_policy::IpNet::from(canonical).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rule_naming_the_address_opts_in() {
    let server = TestServer::http();
    // A literal 127.0.0.1 rule names loopback itself; no --allow-cidr needed.
    Setup::allow(rule_for(&server))
        .run(Guest::HttpClient, &["get", &server.url("/hello")])
        .await
        .ok();
    // `localhost` names loopback too (resolved by the injected resolver here).
    let port = server.addr().port();
    let resolver = StaticResolver::new().with("localhost", [ip("127.0.0.1")]);
    Setup::allow(format!("http://localhost:{port}"))
        .resolver(resolver)
        .run(
            Guest::HttpClient,
            &["get", &format!("http://localhost:{port}/hello")],
        )
        .await
        .ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn dns_is_resolved_once_per_run() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use wasmgate::{Resolve, ResolveFuture};

    struct Counting(Arc<AtomicUsize>);
    impl Resolve for Counting {
        fn resolve<'a>(&'a self, _host: &'a str) -> ResolveFuture<'a> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(vec!["127.0.0.1".parse().unwrap()]) })
        }
    }
    let server = TestServer::http();
    let port = server.addr().port();
    let lookups = Arc::new(AtomicUsize::new(0));
    let rules =
        wasmgate_policy::AllowRule::parse(&format!("http://pinned.wasmgate.test:{port}")).unwrap();
    let runner = wasmgate::Runner::builder()
        .policy(wasmgate_policy::Policy::new(
            vec![rules],
            vec![wasmgate_policy::parse_cidr("127.0.0.1/32").unwrap()],
            Default::default(),
        ))
        .resolver(Arc::new(Counting(lookups.clone())))
        .build()
        .unwrap();
    let config = wasmgate::GuestConfig {
        args: vec![
            "concurrent".into(),
            format!("http://pinned.wasmgate.test:{port}/hello"),
            "5".into(),
        ],
        stdio: wasmgate::Stdio::Capture,
        ..Default::default()
    };
    let out = runner
        .run_file(&guest(Guest::HttpClient), &config)
        .await
        .unwrap();
    assert!(
        matches!(out.status, Ok(0)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lookups.load(Ordering::SeqCst), 1);
}

/// What reaches the server is the method the rule allowed, byte for byte: a `GET` rule
/// refuses a guest's `get` before anything is sent, and a rule without methods lets it
/// out unchanged (never re-cased to `GET`).
#[tokio::test(flavor = "multi_thread")]
async fn the_method_matched_is_the_method_sent() {
    let server = TestServer::http();
    let url = server.url("/echo");
    for method in ["get", "GeT", "post"] {
        let ran = denied(
            Setup::allow(format!("GET,POST {}", server.base())),
            &["get", &url, "--method", method],
        )
        .await;
        let msg = ran.last_error();
        assert!(msg.contains("HTTP methods are case-sensitive"), "{msg}");
        assert_eq!(ran.events[0].method, method);
    }
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 0);

    for (rule, method) in [
        (format!("GET {}", server.base()), "GET"),
        (server.base(), "get"),
        (server.base(), "GeT"),
    ] {
        let ran = Setup::allow(rule)
            .run(Guest::HttpClient, &["get", &url, "--method", method])
            .await;
        ran.ok();
        assert!(
            ran.stdout
                .contains(&format!("header: x-test-method: {method}\n")),
            "{method}: {}",
            ran.stdout
        );
        assert_eq!(ran.events[0].method, method);
    }
}
