//! The same `ordinary` program outside wasmgate: built natively (where
//! `wasmgate.Install()` leaves the standard transport alone), and the TinyGo wasip2
//! build on Wasmtime's stock `wasi:http` sender (no wasmgate hooks), which proves the
//! component uses nothing but standard `wasi:http`.

use std::process::Command;
use std::sync::atomic::Ordering;
use wasmgate_test_support::TestServer;
use wasmgate_test_support::go::go_native;
use wasmgate_test_support::tinygo::{Target, tinygo_guest};

/// Runs the native build with `args`; returns its stdout, asserting it exited 0.
fn native(args: &[&str]) -> String {
    let exe = go_native("ordinary");
    let mut cmd = Command::new(&exe);
    cmd.args(args);
    // The standard transport would send loopback requests to a proxy if one were set.
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(v);
    }
    let out = cmd.output().expect("run the native build");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "native `ordinary {args:?}` failed: {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn has(stdout: &str, line: &str) {
    assert!(
        stdout.lines().any(|l| l == line),
        "expected `{line}` in:\n{stdout}"
    );
}

#[test]
fn the_native_build_passes_against_the_same_server() {
    let server = TestServer::http();
    let out = native(&["json", &server.url("/json")]);
    has(&out, "name: wasmgate");
    has(&out, "tags: wasm,http,go");

    let size = 3 * 1024 * 1024 + 7;
    let out = native(&["post", &server.url("/echo"), &size.to_string()]);
    has(&out, &format!("echo-bytes: {size}"));

    let size = 64 * 1024 * 1024 + 5;
    let out = native(&["download", &server.url(&format!("/chunked/{size}"))]);
    has(&out, &format!("body-bytes: {size}"));

    let out = native(&["get", &server.url("/status/404")]);
    has(&out, "status: 404");
    has(&out, "body: status 404 body");

    let out = native(&["put", &server.url("/headers")]);
    has(&out, "x-ordinary: yes");

    let out = native(&["deadline", &server.url("/slow/5000"), "300"]);
    has(&out, "deadline-exceeded: true");
    let out = native(&["client-timeout", &server.url("/slow/5000"), "300"]);
    has(&out, "timeout: true");

    // Everything so far was sequential, so ten in flight can only come from this run.
    assert_eq!(server.stats().max_in_flight.load(Ordering::SeqCst), 1);
    let out = native(&["concurrent", &server.url("/slow/300"), "10"]);
    has(&out, "ok: 10");
    assert_eq!(server.stats().max_in_flight.load(Ordering::SeqCst), 10);
}

mod stock {
    use wasmtime::component::{Component, Linker, ResourceTable};
    use wasmtime::{Config, Engine, Store};
    use wasmtime_wasi::p2::bindings::Command;
    use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
    use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
    use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

    /// Store state with Wasmtime's default `wasi:http` hooks: requests go straight out
    /// through `default_send_request`, with no policy.
    pub(super) struct Stock {
        wasi: WasiCtx,
        http: WasiHttpCtx,
        table: ResourceTable,
    }

    impl WasiView for Stock {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView {
                ctx: &mut self.wasi,
                table: &mut self.table,
            }
        }
    }

    impl WasiHttpView for Stock {
        fn http(&mut self) -> WasiHttpCtxView<'_> {
            WasiHttpCtxView {
                ctx: &mut self.http,
                table: &mut self.table,
                hooks: Default::default(),
            }
        }
    }

    /// Runs the component's `wasi:cli/run` with `args`; returns (exit ok, stdout, stderr).
    pub(super) async fn run(wasm: &std::path::Path, args: &[&str]) -> (bool, String, String) {
        let mut config = Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config).unwrap();
        let component = Component::from_file(&engine, wasm).unwrap();
        let mut linker = Linker::<Stock>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).unwrap();
        let stdout = MemoryOutputPipe::new(1 << 20);
        let stderr = MemoryOutputPipe::new(1 << 20);
        let mut argv = vec!["ordinary.wasm"];
        argv.extend_from_slice(args);
        let wasi = WasiCtx::builder()
            .args(&argv)
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .build();
        let mut store = Store::new(
            &engine,
            Stock {
                wasi,
                http: WasiHttpCtx::new(),
                table: ResourceTable::new(),
            },
        );
        let command = Command::instantiate_async(&mut store, &component, &linker)
            .await
            .expect("the component links against stock wasi:cli + wasi:http");
        let ok = command
            .wasi_cli_run()
            .call_run(&mut store)
            .await
            .expect("no trap")
            .is_ok();
        drop(store);
        let text = |p: MemoryOutputPipe| String::from_utf8_lossy(&p.contents()).into_owned();
        (ok, text(stdout), text(stderr))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tinygo_wasip2_build_runs_on_stock_wasmtime_wasi_http() {
    let Some(wasm) = tokio::task::spawn_blocking(|| tinygo_guest("ordinary", Target::Wasip2))
        .await
        .unwrap()
    else {
        return;
    };
    let server = TestServer::http();
    let (ok, stdout, stderr) = stock::run(&wasm, &["json", &server.url("/json")]).await;
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    has(&stdout, "name: wasmgate");
    has(&stdout, "version: 1");
    let size = 1024 * 1024 + 3;
    let (ok, stdout, stderr) =
        stock::run(&wasm, &["post", &server.url("/echo"), &size.to_string()]).await;
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    has(&stdout, &format!("echo-bytes: {size}"));
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 2);
}
