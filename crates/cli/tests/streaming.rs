//! A large response streams through `wasmgate run` with bounded host memory: the peak RSS
//! for a 200 MiB body stays within a few MiB of the peak for a tiny one.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use wasmgate_test_support::rust_guest::rust_guest;
use wasmgate_test_support::{Guest, TestServer, guest};

/// Upper bound for the extra memory a 200 MiB download may cost the host. A host that
/// buffered the body would need 200 MiB; pooled buffers and hyper's read buffer need a
/// few hundred KiB.
const MAX_EXTRA_RSS_KIB: u64 = 16 * 1024;

/// Runs a download and returns (guest stdout, peak RSS of the wasmgate process in KiB):
/// `ru_maxrss` as `wait4` reports it when the process is reaped, the kernel's exact
/// high-water mark (sampling `/proc/PID/status` could miss the peak of a short run).
// The child is reaped by `wait4` below (which `Child::wait` cannot do: it has no rusage).
#[allow(clippy::zombie_processes)]
fn download_peak(
    server: &TestServer,
    guest_wasm: &Path,
    bytes: u64,
    extra: &[&str],
) -> (String, u64) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasmgate"))
        .args(["run", "--allow", &server.base()])
        .args(extra)
        .arg(guest_wasm)
        .args(["download", &server.url(&format!("/chunked/{bytes}"))])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start wasmgate");
    // A watchdog, so a hung run fails the test instead of hanging it.
    let pid = child.id() as libc::pid_t;
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(Duration::from_secs(120)).is_err() {
            // SAFETY: kill(2) with a pid this test spawned and has not reaped yet.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut stdout)
        .expect("read stdout");
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for (and reaps) the child this test spawned; `child` is not waited
    // on afterwards.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let _ = done_tx.send(());
    watchdog.join().expect("watchdog");
    assert_eq!(reaped, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "download failed: wait status {status:#x}"
    );
    (stdout, usage.ru_maxrss as u64)
}

#[test]
fn a_200_mib_response_streams_with_bounded_host_memory() {
    bounded(&guest(Guest::HttpClient));
}

/// The same through the host ABI, with a core module (the Rust guest library on wasip1).
#[test]
fn a_200_mib_response_streams_to_a_core_module_with_bounded_host_memory() {
    bounded(&rust_guest("rust-guest-client", "wasm32-wasip1"));
}

/// Recording keeps `--record-max-body` (1 MiB by default) of the body, not the body.
#[test]
fn a_200_mib_response_streams_with_bounded_host_memory_while_recorded() {
    let dir = std::env::temp_dir().join(format!("wasmgate-rss-har-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let har = dir.join("big.har");
    bounded_with(
        &guest(Guest::HttpClient),
        &["--record", har.to_str().unwrap()],
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&har).unwrap()).unwrap();
    let entries = wasmgate_test_support::check_har(&doc);
    let content = &entries[0]["response"]["content"];
    assert_eq!(content["size"], 200 * 1024 * 1024);
    assert_eq!(content["text"].as_str().unwrap().len(), 1024 * 1024);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn bounded(guest_wasm: &Path) {
    bounded_with(guest_wasm, &[]);
}

fn bounded_with(guest_wasm: &Path, extra: &[&str]) {
    let server = TestServer::http();
    let (small_out, small_peak) = download_peak(&server, guest_wasm, 1000, extra);
    assert!(small_out.contains("body-bytes: 1000"), "{small_out}");
    let size: u64 = 200 * 1024 * 1024;
    let (big_out, big_peak) = download_peak(&server, guest_wasm, size, extra);
    assert!(
        big_out.contains(&format!("body-bytes: {size}")),
        "{big_out}"
    );
    assert!(small_peak > 0 && big_peak > 0, "VmHWM was not readable");
    assert!(
        big_peak <= small_peak + MAX_EXTRA_RSS_KIB,
        "peak RSS {big_peak} KiB for 200 MiB vs {small_peak} KiB for 1000 bytes"
    );
}
