//! The host ABI: the input is a program of ABI calls with raw arguments (random
//! pointers, lengths, handles, options, timeouts, allocator behaviour), run by one guest
//! module (guest/abi_interp.wat, built once) through the library against a local test
//! server. The host must not panic, the guest must finish its program (no trap it did
//! not cause, no hang), and memory stays bounded (libFuzzer's -rss_limit_mb).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use wasmgate::{GuestConfig, Runner, StaticResolver, Stdio};
use wasmgate_policy::{AllowRule, Limits, Policy};
use wasmgate_test_support::TestServer;

/// Longest program run (the guest has 64 KiB for it).
const MAX_PROGRAM: usize = 64 * 1024;

/// A run that takes this long is a hang: every wait in a program is at most 2 ms and
/// requests go to a local server.
const RUN_TIMEOUT: Duration = Duration::from_secs(20);

/// Guest memory cap: room for the 512 KiB the guest starts with and the pages its
/// allocator may grow, small enough that a leak shows at once.
const MAX_MEMORY: u64 = 8 * 1024 * 1024;

struct Fixture {
    rt: tokio::runtime::Runtime,
    runner: Runner,
    module: Vec<u8>,
    /// The string slots (see the .wat), hex-encoded for the guest's environment.
    strings: String,
    _server: TestServer,
    _cache: std::path::PathBuf,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // libFuzzer's C `main` skips what Rust's does: ignoring SIGPIPE, without which
        // a write to a socket the peer closed kills the process instead of failing.
        // SAFETY: called once, before any thread of ours exists.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        let server = TestServer::http();
        let mut headers = Vec::new();
        for (name, value) in [("x-a", "1"), ("accept", "*/*")] {
            headers.extend_from_slice(&(name.len() as u32).to_le_bytes());
            headers.extend_from_slice(name.as_bytes());
            headers.extend_from_slice(&(value.len() as u32).to_le_bytes());
            headers.extend_from_slice(value.as_bytes());
        }
        let slots: [Vec<u8>; 16] = [
            b"GET".to_vec(),
            b"POST".to_vec(),
            b"get".to_vec(),
            b"G T".to_vec(),
            server.url("/hello").into_bytes(),
            server.url("/bytes/70000").into_bytes(),
            server.url("/redirect/302?to=/hello").into_bytes(),
            b"http://10.0.0.1/denied".to_vec(),
            b"ftp://127.0.0.1/".to_vec(),
            b"http://\xff\xfe/".to_vec(),
            b"x-test".to_vec(),
            b"value".to_vec(),
            b"host".to_vec(),
            b"a\r\nb".to_vec(),
            headers,
            server.url("/echo").into_bytes(),
        ];
        let mut blob = vec![0u8; 1088];
        for (k, s) in slots.iter().enumerate() {
            assert!(s.len() <= 64, "slot {k} is too long");
            blob[k * 64..k * 64 + s.len()].copy_from_slice(s);
            blob[1024 + 4 * k..1028 + 4 * k].copy_from_slice(&(s.len() as u32).to_le_bytes());
        }
        let policy = Policy::new(
            vec![AllowRule::parse(&server.base()).unwrap()],
            vec![],
            Limits::default(),
        );
        // Compiled once, then loaded from this cache on every run.
        let cache = std::env::temp_dir().join(format!("wasmgate-fuzz-abi-{}", std::process::id()));
        let runner = Runner::builder()
            .policy(policy)
            .resolver(Arc::new(StaticResolver::new()))
            .cache_dir(&cache)
            .build()
            .unwrap();
        let module = wat::parse_str(include_str!("../guest/abi_interp.wat")).unwrap();
        Fixture {
            rt: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap(),
            runner,
            module,
            strings: hex(&blob),
            _server: server,
            _cache: cache,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let program = &data[..data.len().min(MAX_PROGRAM)];
    let config = GuestConfig {
        env: vec![("M".into(), f.strings.clone()), ("P".into(), hex(program))],
        stdio: Stdio::Capture,
        timeout: Some(RUN_TIMEOUT),
        max_memory: MAX_MEMORY,
        ..GuestConfig::default()
    };
    let out =
        f.rt.block_on(f.runner.run_bytes(&f.module, "abi_interp.wasm", &config))
            .expect("the guest loads and links");
    match out.status {
        Ok(0) => {}
        other => panic!("the guest did not finish its program: {other:?}"),
    }
});
