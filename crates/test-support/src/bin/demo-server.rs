//! `demo-server`: the test server (`TestServer::http()`) as a standalone process, for
//! `scripts/demo.sh`.
//!
//! Prints exactly one line, `listening on http://127.0.0.1:PORT`, then serves until its
//! stdin is closed (or at most 10 minutes, so a forgotten server never lingers), then
//! stops. Routes are those of [`wasmgate_test_support::TestServer`] (`/hello`,
//! `/status/N`, `/echo`, …).

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::Duration;
use wasmgate_test_support::TestServer;

/// The longest the server stays up, whatever happens to stdin.
const MAX_LIFETIME: Duration = Duration::from_secs(10 * 60);

fn main() {
    let server = TestServer::http();
    {
        let mut out = std::io::stdout().lock();
        // If nobody reads the line there is nobody to serve either.
        if writeln!(out, "listening on {}", server.base())
            .and_then(|()| out.flush())
            .is_err()
        {
            return;
        }
    }

    let (closed_tx, closed_rx) = mpsc::channel::<()>();
    // Detached: if the lifetime runs out first, the process exits with this thread
    // still blocked in `read`.
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = closed_tx.send(());
    });
    // Either stdin closed (Ok or Disconnected) or the lifetime ran out.
    let _ = closed_rx.recv_timeout(MAX_LIFETIME);
    drop(server);
}
