//! A large response streams through `wasmgate run` with bounded host memory: the peak RSS
//! for a 200 MiB body stays within a few MiB of the peak for a tiny one.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wasmgate_test_support::rust_guest::rust_guest;
use wasmgate_test_support::{Guest, TestServer, guest};

/// Upper bound for the extra memory a 200 MiB download may cost the host. A host that
/// buffered the body would need 200 MiB; pooled buffers and hyper's read buffer need a
/// few hundred KiB.
const MAX_EXTRA_RSS_KIB: u64 = 16 * 1024;

/// Runs a download and returns (guest stdout, peak RSS of the wasmgate process in KiB),
/// reading `VmHWM` (the kernel's high-water mark) until the process exits.
fn download_peak(server: &TestServer, guest_wasm: &Path, bytes: u64) -> (String, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasmgate"))
        .args(["run", "--allow", &server.base()])
        .arg(guest_wasm)
        .args(["download", &server.url(&format!("/chunked/{bytes}"))])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start wasmgate");
    let status_path = format!("/proc/{}/status", child.id());
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut peak = 0;
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "wasmgate did not finish in time");
        if let Ok(status) = std::fs::read_to_string(&status_path)
            && let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().expect("output");
    assert!(out.status.success(), "download failed: {:?}", out.status);
    (String::from_utf8_lossy(&out.stdout).into_owned(), peak)
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

fn bounded(guest_wasm: &Path) {
    let server = TestServer::http();
    let (small_out, small_peak) = download_peak(&server, guest_wasm, 1000);
    assert!(small_out.contains("body-bytes: 1000"), "{small_out}");
    let size: u64 = 200 * 1024 * 1024;
    let (big_out, big_peak) = download_peak(&server, guest_wasm, size);
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
