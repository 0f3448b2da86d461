//! Components through an HTTP proxy (the recording test proxy of test-support) and with
//! injected headers: what the proxy and the server saw, what the guest and the events
//! saw, and the errors.

use super::harness::*;
use std::sync::atomic::Ordering;
use wasmgate::{Decision, Injection, OutboundErrorKind, ProxyConfig, ProxyFailure, StaticResolver};
use wasmgate_test_support::{TestProxy, basic};

/// A resolver that knows no name: a request resolved locally would fail, so a success
/// shows the proxy resolved it.
fn no_names() -> StaticResolver {
    StaticResolver::new()
}

fn proxy(p: &TestProxy) -> ProxyConfig {
    ProxyConfig::new(&p.url()).unwrap()
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("wasmgate-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test(flavor = "multi_thread")]
async fn https_goes_through_connect_with_tls_to_the_target() {
    let dir = tempdir("egress-connect");
    let ca = TestCa::new(&dir);
    let server = TestServer::https(ca.server_config.clone());
    let port = server.addr().port();
    let p = TestProxy::open();
    let ran = Setup::allow(format!("https://localhost:{port}"))
        .resolver(no_names())
        .ca(ca.ca_pem.clone())
        .proxy(proxy(&p))
        .run(
            Guest::HttpClient,
            &["get", &format!("https://localhost:{port}/echo")],
        )
        .await;
    ran.ok();
    // TLS (with ALPN) ran inside the tunnel, for the target's name.
    assert!(
        ran.stdout.contains("header: x-test-version: HTTP/2.0"),
        "{}",
        ran.stdout
    );
    let seen = p.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].line, format!("CONNECT localhost:{port}"));
    assert!(seen[0].headers.contains(&format!("host: localhost:{port}")));
    assert_eq!(seen[0].proxy_authorization, None);
    let e = &ran.events[0];
    assert_eq!(e.proxy.as_deref(), Some(p.addr().to_string().as_str()));
    assert_eq!(e.addr, Some(p.addr()));
    assert_eq!(e.status, Some(200));
}

#[tokio::test(flavor = "multi_thread")]
async fn http_goes_to_the_proxy_in_absolute_form() {
    let server = TestServer::http();
    let port = server.addr().port();
    let p = TestProxy::open();
    let url = format!("http://api.proxied.test:{port}/echo?q=1");
    let ran = Setup::allow(format!("http://api.proxied.test:{port}"))
        .resolver(no_names())
        .proxy(proxy(&p))
        .run(Guest::HttpClient, &["get", &url])
        .await;
    ran.ok();
    let seen = p.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].line, format!("GET {url}"));
    assert!(
        seen[0]
            .headers
            .contains(&format!("host: api.proxied.test:{port}")),
        "{seen:?}"
    );
    assert!(
        ran.stdout.contains(&format!("header: x-test-uri: {url}")),
        "{}",
        ran.stdout
    );
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_request_never_reaches_the_proxy() {
    let p = TestProxy::open();
    let ran = Setup::allow("https://api.example.com")
        .resolver(no_names())
        .proxy(proxy(&p))
        .run(Guest::HttpClient, &["get", "https://other.example.com/"])
        .await;
    ran.guest_error("HttpRequestDenied");
    assert_eq!(ran.events[0].decision, Decision::Denied);
    assert_eq!(ran.events[0].proxy, None);
    assert!(p.seen().is_empty(), "{:?}", p.seen());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ip_literal_in_a_special_range_is_refused_before_the_proxy() {
    let p = TestProxy::open();
    // `http://*:*` names no address: loopback stays refused, proxy or not.
    let ran = Setup::allow("http://*:*")
        .resolver(no_names())
        .proxy(proxy(&p))
        .run(Guest::HttpClient, &["get", "http://127.0.0.1:9/"])
        .await;
    ran.guest_error("DestinationIpProhibited");
    assert!(p.seen().is_empty(), "{:?}", p.seen());
}

#[tokio::test(flavor = "multi_thread")]
async fn no_proxy_hosts_go_direct() {
    let server = TestServer::http();
    let p = TestProxy::open();
    let ran = Setup::allow(server.base())
        .proxy(proxy(&p).no_proxy("example.com, 127.0.0.0/8").unwrap())
        .run(Guest::HttpClient, &["get", &server.url("/hello")])
        .await;
    ran.ok();
    assert!(p.seen().is_empty(), "{:?}", p.seen());
    assert_eq!(ran.events[0].proxy, None);
    assert_eq!(ran.events[0].addr, Some(server.addr()));
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_credentials_are_sent_and_a_407_names_the_fix() {
    let server = TestServer::http();
    let port = server.addr().port();
    let p = TestProxy::with_credentials("user", "s3cret");
    let url = format!("http://api.proxied.test:{port}/hello");
    let rule = format!("http://api.proxied.test:{port}");

    let ran = Setup::allow(&*rule)
        .resolver(no_names())
        .proxy(ProxyConfig::new(&p.url_with("user", "s3cret")).unwrap())
        .run(Guest::HttpClient, &["get", &url])
        .await;
    ran.ok();
    assert_eq!(
        p.seen()[0].proxy_authorization.as_deref(),
        Some(basic("user", "s3cret").as_str())
    );

    // Without credentials: the proxy's 407 becomes an error naming --proxy.
    let ran = Setup::allow(&*rule)
        .resolver(no_names())
        .proxy(proxy(&p))
        .run(Guest::HttpClient, &["get", &url])
        .await;
    ran.guest_error("ConnectionRefused");
    let err = ran.events[0].error.as_ref().unwrap();
    assert_eq!(err.kind(), OutboundErrorKind::Proxy);
    assert_eq!(err.proxy_failure(), Some(ProxyFailure::AuthRequired));
    let text = err.to_string();
    assert!(text.contains("requires authentication (407)"), "{text}");
    assert!(
        text.contains(&format!("--proxy http://USER:PASSWORD@{}", p.addr())),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_credentials_on_connect_say_they_were_not_accepted() {
    let p = TestProxy::with_credentials("user", "s3cret");
    let ran = Setup::allow("https://api.proxied.test")
        .resolver(no_names())
        .proxy(ProxyConfig::new(&p.url_with("user", "wrong")).unwrap())
        .run(Guest::HttpClient, &["get", "https://api.proxied.test/"])
        .await;
    ran.guest_error("ConnectionRefused");
    let text = ran.last_error();
    assert!(text.contains("did not accept the credentials"), "{text}");
    assert!(
        !text.contains("wrong"),
        "the password must not be shown: {text}"
    );
    assert_eq!(p.seen()[0].line, "CONNECT api.proxied.test:443");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connect_quotes_the_status() {
    let p = TestProxy::refusing(403, "Forbidden by policy");
    let ran = Setup::allow("https://api.proxied.test:8443")
        .resolver(no_names())
        .proxy(proxy(&p))
        .run(
            Guest::HttpClient,
            &["get", "https://api.proxied.test:8443/x"],
        )
        .await;
    ran.guest_error("ConnectionRefused");
    let err = ran.events[0].error.as_ref().unwrap();
    assert_eq!(err.proxy_failure(), Some(ProxyFailure::Refused(403)));
    assert!(
        err.to_string().contains(&format!(
            "the proxy {} refused CONNECT api.proxied.test:8443: 403 Forbidden by policy",
            p.addr()
        )),
        "{err}"
    );
    assert_eq!(ran.events[0].decision, Decision::Allowed);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_proxy_is_named() {
    // A port that was just free: nothing listens on it.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let ran = Setup::allow("https://api.proxied.test")
        .resolver(no_names())
        .proxy(ProxyConfig::new(&format!("http://{addr}")).unwrap())
        .run(Guest::HttpClient, &["get", "https://api.proxied.test/"])
        .await;
    ran.guest_error("ConnectionRefused");
    let err = ran.events[0].error.as_ref().unwrap();
    assert_eq!(err.proxy_failure(), Some(ProxyFailure::Unreachable));
    assert!(
        err.to_string()
            .contains(&format!("cannot reach the proxy {addr}")),
        "{err}"
    );
}

const TOKEN: &str = "tok-value-never-shown-1234";

fn token_env(name: &str) -> Option<String> {
    (name == "API_TOKEN").then(|| TOKEN.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn injected_headers_reach_the_server_and_replace_the_guests() {
    let server = TestServer::http();
    let inject = Injection::with_env(
        &server.base(),
        [
            ("authorization", "Bearer ${env:API_TOKEN}"),
            ("x-extra", "plain"),
        ],
        token_env,
    )
    .unwrap();
    let ran = Setup::allow(server.base())
        .inject(inject)
        .run(
            Guest::HttpClient,
            &[
                "get",
                "-H",
                "authorization: guest's own",
                &server.url("/headers"),
            ],
        )
        .await;
    ran.ok();
    let sent: Vec<&str> = ran.body().lines().collect();
    assert!(
        sent.contains(&format!("authorization: Bearer {TOKEN}").as_str()),
        "{sent:?}"
    );
    assert!(sent.contains(&"x-extra: plain"), "{sent:?}");
    assert!(!ran.stdout.contains("guest's own"), "{}", ran.stdout);
    let e = &ran.events[0];
    assert_eq!(e.injected, ["authorization", "x-extra"]);
    assert_eq!(e.replaced, ["authorization"]);
    let json = e.to_json().to_string();
    assert!(!json.contains(TOKEN), "{json}");
    assert!(!format!("{e:?}").contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn injection_follows_its_rule_only() {
    let a = TestServer::http();
    let b = TestServer::http();
    let inject = Injection::with_env(
        &a.base(),
        [("authorization", "${env:API_TOKEN}")],
        token_env,
    )
    .unwrap();
    let ran = Setup::allow(b.base())
        .inject(inject)
        .run(Guest::HttpClient, &["get", &b.url("/headers")])
        .await;
    ran.ok();
    assert!(!ran.stdout.contains(TOKEN), "{}", ran.stdout);
    assert!(ran.events[0].injected.is_empty());

    // Denied: nothing is injected into a request that never leaves.
    let inject = Injection::with_env(
        &a.base(),
        [("authorization", "${env:API_TOKEN}")],
        token_env,
    )
    .unwrap();
    let ran = Setup::allow(b.base())
        .inject(inject)
        .run(Guest::HttpClient, &["get", &a.url("/headers")])
        .await;
    ran.guest_error("HttpRequestDenied");
    assert!(ran.events[0].injected.is_empty());
    assert_eq!(a.stats().requests.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn injected_headers_travel_through_the_proxy_tunnel_too() {
    let dir = tempdir("egress-inject-connect");
    let ca = TestCa::new(&dir);
    let server = TestServer::https(ca.server_config.clone());
    let port = server.addr().port();
    let p = TestProxy::open();
    let rule = format!("https://localhost:{port}");
    let inject =
        Injection::with_env(&rule, [("x-api-key", "${env:API_TOKEN}")], token_env).unwrap();
    let ran = Setup::allow(&*rule)
        .resolver(no_names())
        .ca(ca.ca_pem.clone())
        .proxy(proxy(&p))
        .inject(inject)
        .run(Guest::HttpClient, &["get", &format!("{rule}/headers")])
        .await;
    ran.ok();
    assert!(
        ran.body()
            .lines()
            .any(|l| l == format!("x-api-key: {TOKEN}")),
        "{}",
        ran.stdout
    );
    // The proxy saw only the CONNECT: the header went inside the TLS tunnel.
    let seen = format!("{:?}", p.seen());
    assert!(!seen.contains(TOKEN), "{seen}");
}
