//! The load generator of S1: Debian's `wrk`, with a small Lua `done()` script that prints
//! one machine-readable line (requests, duration, p50/p99 in µs, error counts), so no
//! human-oriented output has to be parsed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// wrk's threads and connections, as in the issue's peer figures (`wrk -t1 -c2`): two
/// requests in flight keep a server busy without queueing on a 2-CPU machine.
pub const THREADS: u32 = 1;
/// See [`THREADS`].
pub const CONNECTIONS: u32 = 2;

/// wrk's own per-request timeout: far above any request here, so a stuck server shows as
/// an error count rather than a hang (wrk stops at `-d` regardless).
const REQUEST_TIMEOUT_SECS: u32 = 30;

/// The `done()` hook: one line starting with [`RESULT_PREFIX`], `key=value` pairs.
const DONE_SCRIPT: &str = r#"done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "wasmgate-bench-wrk requests=%d duration_us=%d bytes=%d p50_us=%.1f p99_us=%.1f status=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
"#;

const RESULT_PREFIX: &str = "wasmgate-bench-wrk ";

/// `wrk` found in `$PATH`, and the Lua script written next to the bench's scratch files.
#[derive(Debug, Clone)]
pub struct Wrk {
    program: PathBuf,
    script: PathBuf,
}

/// One wrk run.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    /// Completed requests.
    pub requests: u64,
    /// Requests per second over the run.
    pub rps: f64,
    /// Median latency, µs.
    pub p50_us: f64,
    /// 99th-percentile latency, µs.
    pub p99_us: f64,
}

impl Wrk {
    /// `wrk` from `$PATH`, or `None` when it is not installed.
    pub fn find(scratch: &Path) -> Result<Option<Wrk>, String> {
        let dirs = std::env::var_os("PATH").unwrap_or_default();
        let Some(program) = std::env::split_paths(&dirs)
            .map(|d| d.join("wrk"))
            .find(|p| p.is_file())
        else {
            return Ok(None);
        };
        let script = scratch.join("wrk-done.lua");
        std::fs::write(&script, DONE_SCRIPT)
            .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
        Ok(Some(Wrk { program, script }))
    }

    /// Loads `url` for `seconds` and returns what wrk measured. Any failed request
    /// (non-2xx status, socket error, timeout) is an error: the figure would be of a
    /// server that does not work.
    pub fn run(&self, url: &str, seconds: u32) -> Result<Load, String> {
        let mut cmd = Command::new(&self.program);
        cmd.arg(format!("-t{THREADS}"))
            .arg(format!("-c{CONNECTIONS}"))
            .arg(format!("-d{seconds}s"))
            .arg(format!("--timeout={REQUEST_TIMEOUT_SECS}s"))
            .arg("-s")
            .arg(&self.script)
            .arg(url);
        let f = crate::proc::run(cmd)?.check(&format!("wrk {url}"))?;
        parse(&f.stdout).map_err(|e| format!("wrk {url}: {e}\nwrk said:\n{}", f.stdout))
    }
}

/// Reads the `done()` line out of wrk's output.
pub fn parse(stdout: &str) -> Result<Load, String> {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT_PREFIX))
        .ok_or("no result line (the Lua done() hook did not run)")?;
    let field = |key: &str| -> Result<f64, String> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .ok_or_else(|| format!("result line lacks {key}: {line}"))?
            .parse::<f64>()
            .map_err(|_| format!("{key} is not a number: {line}"))
    };
    let failed: Vec<String> = ["status", "connect", "read", "write", "timeout"]
        .into_iter()
        .map(|k| field(k).map(|n| (k, n)))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|&(_, n)| n > 0.0)
        .map(|(k, n)| format!("{n} {k} errors"))
        .collect();
    if !failed.is_empty() {
        // `status` counts responses outside 2xx/3xx.
        return Err(format!("failed requests: {}", failed.join(", ")));
    }
    let requests = field("requests")?;
    let duration_us = field("duration_us")?;
    if requests < 1.0 || duration_us <= 0.0 {
        return Err(format!("no request completed: {line}"));
    }
    Ok(Load {
        requests: requests as u64,
        rps: requests / (duration_us / 1e6),
        p50_us: field("p50_us")?,
        p99_us: field("p99_us")?,
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    const OK: &str = "Running 1s test @ http://127.0.0.1:1/hello\n  1 threads and 2 connections\n\
        wasmgate-bench-wrk requests=7000 duration_us=1000000 bytes=9 p50_us=257.0 p99_us=481.5 status=0 connect=0 read=0 write=0 timeout=0\n";

    #[test]
    fn reads_the_done_line() {
        let l = parse(OK).unwrap();
        assert_eq!(l.requests, 7000);
        assert_eq!(l.rps, 7000.0);
        assert_eq!((l.p50_us, l.p99_us), (257.0, 481.5));
    }

    #[test]
    fn failed_requests_are_an_error() {
        let bad = OK.replace("status=0", "status=12");
        let e = parse(&bad).unwrap_err();
        assert!(e.contains("12 status errors"), "{e}");
    }

    #[test]
    fn missing_line_or_field_is_an_error() {
        assert!(
            parse("Running 1s test\n")
                .unwrap_err()
                .contains("no result line")
        );
        let e = parse(&OK.replace(" p99_us=481.5", "")).unwrap_err();
        assert!(e.contains("p99_us"), "{e}");
        let e = parse(&OK.replace("requests=7000", "requests=0")).unwrap_err();
        assert!(e.contains("no request completed"), "{e}");
    }
}
