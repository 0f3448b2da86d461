//! A server under test in S1 (`wasmgate serve` or `wasmtime serve`) as a child process:
//! started on a port the kernel picks, ready once it has printed the address it listens
//! on and accepts a connection there, stopped at the end.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longest wait for a server to print its address: it compiles the component first
/// (seconds on a loaded 2-CPU machine without a cache). A guard against a hung start,
/// not a figure.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest a warm-up request or a graceful stop may take (guards only).
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Stderr lines kept for error messages.
const TAIL_LINES: usize = 30;

/// A running server.
pub struct ServeChild {
    name: &'static str,
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    tail: Arc<Mutex<VecDeque<String>>>,
}

impl ServeChild {
    /// Starts `cmd` (which must listen on a port of the kernel's choosing and print
    /// `http://IP:PORT` on stderr once bound) and waits until it accepts.
    pub fn start(name: &'static str, mut cmd: Command) -> Result<ServeChild, String> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name} ({:?}): {e}", cmd.get_program()))?;
        let stderr = child.stderr.take().expect("piped stderr");
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let (tx, rx) = mpsc::channel();
        let keep = tail.clone();
        // Drains stderr for the child's whole life, so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = tx.as_ref().and_then(|_| listening_addr(&line)) {
                    let _ = tx.take().map(|t| t.send(addr));
                }
                let mut t = keep.lock().unwrap_or_else(|p| p.into_inner());
                if t.len() == TAIL_LINES {
                    t.pop_front();
                }
                t.push_back(line);
            }
        });
        let mut server = ServeChild {
            name,
            child,
            // Replaced below once known.
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            tail,
        };
        match rx.recv_timeout(READY_TIMEOUT) {
            Ok(addr) => server.addr = addr,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(server.failure(&format!(
                    "printed no listening address within {READY_TIMEOUT:?}"
                )));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(server.failure("exited before listening"));
            }
        }
        TcpStream::connect_timeout(&server.addr, IO_TIMEOUT)
            .map_err(|e| server.failure(&format!("does not accept on {}: {e}", server.addr)))?;
        Ok(server)
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// One GET of `path` on a fresh connection; an error unless the answer is a 200.
    /// Run once per handler before measuring: the first request of a handler is not
    /// timed, and a handler that does not work (e.g. an outbound GET refused) stops the
    /// bench instead of being measured.
    pub fn check_get(&self, path: &str) -> Result<(), String> {
        let fail = |e: String| self.failure(&format!("GET {path}: {e}"));
        let mut s =
            TcpStream::connect_timeout(&self.addr, IO_TIMEOUT).map_err(|e| fail(e.to_string()))?;
        s.set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|()| s.set_write_timeout(Some(IO_TIMEOUT)))
            .map_err(|e| fail(e.to_string()))?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
            self.addr
        )
        .map_err(|e| fail(e.to_string()))?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer)
            .map_err(|e| fail(e.to_string()))?;
        let answer = String::from_utf8_lossy(&answer);
        if !answer.starts_with("HTTP/1.1 200") {
            let head: String = answer.chars().take(600).collect();
            return Err(fail(format!("expected 200, got:\n{head}")));
        }
        Ok(())
    }

    /// Stops the server. With `graceful`, SIGTERM and an error unless it exits 0 (as
    /// `wasmgate serve` must after draining); otherwise SIGKILL.
    pub fn stop(mut self, graceful: bool) -> Result<(), String> {
        if !graceful {
            let _ = self.child.kill();
            let _ = self.child.wait();
            return Ok(());
        }
        let pid = libc::pid_t::try_from(self.child.id()).map_err(|e| e.to_string())?;
        // SAFETY: `pid` is our own child, not yet reaped.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + IO_TIMEOUT;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(self.failure(&format!("exited with {status} after SIGTERM")));
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(None) => {
                    return Err(
                        self.failure(&format!("still running {IO_TIMEOUT:?} after SIGTERM"))
                    );
                }
                Err(e) => return Err(self.failure(&format!("wait: {e}"))),
            }
        }
    }

    /// An error naming the server, with the end of its stderr.
    fn failure(&self, what: &str) -> String {
        let tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        let lines: Vec<&str> = tail.iter().map(String::as_str).collect();
        format!(
            "{} {what}; its stderr ends:\n{}",
            self.name,
            lines.join("\n")
        )
    }
}

impl Drop for ServeChild {
    fn drop(&mut self) {
        // No-op after `stop`, which reaped it; otherwise (an error path) never leave it.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The `IP:PORT` of the first `http://IP:PORT` in a line: `wasmgate serve` prints
/// `serving … on http://127.0.0.1:PORT`, `wasmtime serve` `Serving HTTP on
/// http://127.0.0.1:PORT/`.
fn listening_addr(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("http://")? + "http://".len()..];
    let end = rest
        .find(|c: char| c == '/' || c == ';' || c.is_whitespace())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::listening_addr;

    #[test]
    fn finds_the_address_in_both_servers_lines() {
        let a = listening_addr(
            "wasmgate: serving h.wasm (a wasi:http component) on http://127.0.0.1:4321; metrics on http://127.0.0.1:9/metrics",
        );
        assert_eq!(a, Some("127.0.0.1:4321".parse().unwrap()));
        let b = listening_addr("Serving HTTP on http://127.0.0.1:5555/");
        assert_eq!(b, Some("127.0.0.1:5555".parse().unwrap()));
        assert_eq!(listening_addr("compiling…"), None);
        assert_eq!(listening_addr("see http://example.com/"), None);
    }
}
