//! Bad guest files: what is not WebAssembly is refused from its header, without
//! reading the rest.

use std::io::Write;
use std::time::Duration;
use wasmgate::{ErrorKind, GuestConfig, Runner};

/// A FIFO that yields a non-wasm header and then stays open without ever ending: a
/// loader that read the whole file before checking the header would wait forever.
#[tokio::test(flavor = "multi_thread")]
async fn a_non_wasm_file_is_refused_from_its_header_alone() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("endless.wasm");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            f.write_all(b"MZ\x90\x00not wasm at all").unwrap();
            // Hold the pipe open (no EOF) until the test is over, at most 20 s.
            let _ = done_rx.recv_timeout(Duration::from_secs(20));
        })
    };
    let runner = Runner::builder().build().unwrap();
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        runner.run_file(&fifo, &GuestConfig::default()),
    )
    .await
    .expect("the loader waited for the end of the file instead of checking its header");
    let Err(err) = result else {
        panic!("a non-wasm file was accepted")
    };
    assert_eq!(err.kind(), ErrorKind::Load);
    assert!(
        err.to_string().contains("is not a WebAssembly binary"),
        "{err}"
    );
    done_tx.send(()).unwrap();
    writer.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
