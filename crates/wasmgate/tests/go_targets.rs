//! One ordinary net/http + encoding/json Go program (`guest/go/testprograms/ordinary`),
//! built the ways users build it — mainline Go `GOOS=wasip1`, TinyGo `-target=wasip1`
//! (host ABI), TinyGo `-target=wasip2` (`wasi:http`) — and run under wasmgate against
//! the same local server; plus its native build, and the TinyGo wasip2 build on the
//! stock wasmtime-wasi-http sender. Each scenario is one function, run for every build
//! by `for_each_build!`.
//!
//! Without TinyGo the TinyGo variants print `skipped: no TinyGo` and pass; under
//! `CI=true` they fail instead (see `wasmgate_test_support::tinygo`).

mod common;
use common::*;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use wasmgate::{Decision, Origin};
use wasmgate_test_support::go::go_guest;
use wasmgate_test_support::tinygo::{Target, tinygo_guest};
use wasmgate_test_support::{JSON_DOCUMENT, TestServer};

#[path = "go_targets/native_and_stock.rs"]
mod native_and_stock;

/// How the program was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    GoWasip1,
    TinyGoWasip1,
    TinyGoWasip2,
}

impl Build {
    fn is_tinygo(self) -> bool {
        self != Build::GoWasip1
    }

    /// The built program, or `None` when TinyGo is missing (outside CI).
    async fn wasm(self) -> Option<PathBuf> {
        tokio::task::spawn_blocking(move || match self {
            Build::GoWasip1 => Some(go_guest("ordinary")),
            Build::TinyGoWasip1 => tinygo_guest("ordinary", Target::Wasip1),
            Build::TinyGoWasip2 => tinygo_guest("ordinary", Target::Wasip2),
        })
        .await
        .unwrap()
    }

    /// Runs the program with `run`'s policy; `None` when it could not be built.
    async fn run(self, run: Run, args: &[&str]) -> Option<Ran> {
        let wasm = self.wasm().await?;
        let ran = run.run(&wasm, args).await;
        // Every request of every build goes through the one outbound client, tagged
        // with the guest interface it came from.
        let origin = match self {
            Build::TinyGoWasip2 => Origin::WasiHttp,
            _ => Origin::HostAbi,
        };
        for e in &ran.events {
            assert_eq!(e.origin, origin, "{self:?}: {e:?}");
        }
        Some(ran)
    }
}

/// `for_each_build!(scenario)` makes a module `scenario` with one test per build, each
/// calling `scenario(build)`.
macro_rules! for_each_build {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            use super::Build;
            #[tokio::test(flavor = "multi_thread")]
            async fn go_wasip1() {
                super::$scenario(Build::GoWasip1).await
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn tinygo_wasip1() {
                super::$scenario(Build::TinyGoWasip1).await
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn tinygo_wasip2() {
                super::$scenario(Build::TinyGoWasip2).await
            }
        }
    )*};
}

for_each_build!(
    json_get,
    post_streams_3_mib,
    download_streams_64_mib_in_bounded_memory,
    not_found_comes_with_its_body,
    put_with_a_header,
    denial_is_a_go_error_with_its_code,
    context_deadline_cancels,
    client_timeout_cancels,
    ten_slow_requests_overlap,
);

async fn json_get(b: Build) {
    let server = TestServer::http();
    let Some(ran) = b
        .run(Run::allow(server.base()), &["json", &server.url("/json")])
        .await
    else {
        return;
    };
    ran.ok()
        .has_line("content-type: application/json")
        .has_line("name: wasmgate")
        .has_line("version: 1")
        .has_line("tags: wasm,http,go");
    assert_eq!(ran.events.len(), 1, "{:?}", ran.events);
    let e = &ran.events[0];
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.status, Some(200));
    assert_eq!(e.bytes_in, JSON_DOCUMENT.len() as u64);
}

async fn post_streams_3_mib(b: Build) {
    let server = TestServer::http();
    let size: u64 = 3 * 1024 * 1024 + 7;
    let Some(ran) = b
        .run(
            Run::allow(server.base()),
            &["post", &server.url("/echo"), &size.to_string()],
        )
        .await
    else {
        return;
    };
    // The program compares the echo with what it sent, chunk by chunk.
    ran.ok()
        .has_line("status: 200")
        .has_line(&format!("echo-bytes: {size}"));
    assert_eq!(server.stats().body_bytes.load(Ordering::SeqCst), size);
    assert_eq!(ran.events.len(), 1, "{:?}", ran.events);
    assert_eq!(ran.events[0].method, "POST");
    assert_eq!(ran.events[0].bytes_out, size);
    assert_eq!(ran.events[0].bytes_in, size);
}

async fn download_streams_64_mib_in_bounded_memory(b: Build) {
    let server = TestServer::http();
    let size: u64 = 64 * 1024 * 1024 + 5;
    // A guest that held the body would need more linear memory than this and trap.
    let cap = 48 * 1024 * 1024;
    let Some(ran) = b
        .run(
            Run::allow(server.base()).max_memory(cap),
            &["download", &server.url(&format!("/chunked/{size}"))],
        )
        .await
    else {
        return;
    };
    ran.ok()
        .has_line("status: 200")
        .has_line(&format!("body-bytes: {size}"));
    assert_eq!(ran.events[0].bytes_in, size);
}

async fn not_found_comes_with_its_body(b: Build) {
    let server = TestServer::http();
    let Some(ran) = b
        .run(
            Run::allow(server.base()),
            &["get", &server.url("/status/404")],
        )
        .await
    else {
        return;
    };
    ran.ok()
        .has_line("status: 404")
        .has_line("body: status 404 body");
    assert_eq!(ran.events[0].status, Some(404));
}

async fn put_with_a_header(b: Build) {
    let server = TestServer::http();
    let Some(ran) = b
        .run(Run::allow(server.base()), &["put", &server.url("/headers")])
        .await
    else {
        return;
    };
    // /headers answers with the request's headers, one `name: value` line each.
    ran.ok().has_line("status: 200");
    let sent: Vec<&str> = ran.body().lines().collect();
    assert!(sent.contains(&"x-ordinary: yes"), "{sent:?}");
    assert!(
        sent.contains(&"content-length: 8"),
        "a body of known length goes with its content-length: {sent:?}"
    );
    assert_eq!(ran.events.len(), 1, "{:?}", ran.events);
    assert_eq!(ran.events[0].method, "PUT");
    // Not bytes_out: /headers answers without reading the body, so how much of it went
    // out before the answer is a race (the POST test checks streamed bodies).
}

async fn denial_is_a_go_error_with_its_code(b: Build) {
    let server = TestServer::http();
    let Some(ran) = b
        .run(Run::deny_all(), &["denied", &server.url("/json")])
        .await
    else {
        return;
    };
    ran.ok()
        .has_line("denied: true")
        .has_line("code: -20 ERR_DENIED");
    let wasi_code = if b == Build::TinyGoWasip2 {
        "HTTP-request-denied"
    } else {
        ""
    };
    ran.has_line(&format!("wasi-error-code: {wasi_code}"));
    let message = ran
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("message: "))
        .unwrap();
    assert!(
        !message.contains("wasmgate: wasmgate:"),
        "doubled prefix: {message}"
    );
    if b != Build::TinyGoWasip2 {
        // The host ABI carries wasmgate's explanation, naming the fix.
        assert!(
            message.contains(&format!("--allow {}", server.base())),
            "{message}"
        );
    }
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 0);
    assert_eq!(ran.events.len(), 1);
    assert_eq!(ran.events[0].decision, Decision::Denied);
}

async fn context_deadline_cancels(b: Build) {
    let server = TestServer::http();
    let Some(ran) = b
        .run(
            Run::allow(server.base()),
            &["deadline", &server.url("/slow/5000"), "300"],
        )
        .await
    else {
        return;
    };
    ran.ok().has_line("deadline-exceeded: true");
    let after = ran.number("after-ms: ");
    assert!(
        (300..3000).contains(&after),
        "{b:?}: cancelled after {after} ms"
    );
    assert_eq!(ran.events.len(), 1, "{:?}", ran.events);
    assert_eq!(ran.events[0].status, None);
}

async fn client_timeout_cancels(b: Build) {
    if b.is_tinygo() {
        // TinyGo 0.33's net/http has no Client.Timeout: a Client without a Transport
        // uses TinyGo's own netdev path, and one with a Transport calls it directly
        // without a deadline. guest/go/README.md says to use a context deadline there.
        return;
    }
    let server = TestServer::http();
    let Some(ran) = b
        .run(
            Run::allow(server.base()),
            &["client-timeout", &server.url("/slow/5000"), "300"],
        )
        .await
    else {
        return;
    };
    ran.ok().has_line("timeout: true");
    let after = ran.number("after-ms: ");
    assert!(
        (300..3000).contains(&after),
        "{b:?}: timed out after {after} ms"
    );
}

async fn ten_slow_requests_overlap(b: Build) {
    let server = TestServer::http();
    let Some(ran) = b
        .run(
            Run::allow(server.base()),
            &["concurrent", &server.url("/slow/300"), "10"],
        )
        .await
    else {
        return;
    };
    ran.ok().has_line("ok: 10");
    // All ten were at the server at once: the guest did not serialize them.
    assert_eq!(server.stats().max_in_flight.load(Ordering::SeqCst), 10);
    assert_eq!(ran.events.len(), 10);
    // Reported, not asserted: wall time is the benchmark's business.
    let elapsed = ran.number("elapsed-ms: ");
    eprintln!("{b:?}: 10 concurrent 300 ms requests took {elapsed} ms");
}
