//! `rust-guest-client`: the test program of the `wasmgate-guest` crate, built for both
//! wasm32-wasip1 and wasm32-wasip2. Output follows `test-programs/README.md`:
//!
//! - `get URL` / `headers URL` (sends `x-from-guest: 42`): `status: N`, one
//!   `header: name: value` line per response header, `body-bytes: N`, `---`, the body;
//! - `post URL SIZE`: the same, after streaming SIZE bytes of `0123456789abcdef…` through
//!   `Request::body_reader`;
//! - `download URL`: `status: N`, then `body-bytes: N` (read with `Read` in 64 KiB chunks
//!   and only counted);
//! - `concurrent URL N`: starts N GETs, `wait_all`, reads every body; prints
//!   `result <i>: status <code>` or `result <i>: error <kind> <message>`, `ok: <n>`,
//!   `elapsed-ms: <ms>`; exit 1 unless all succeeded;
//! - `bench URL N` (for `wasmgate-bench`): N sequential GETs, each body read with `Read`
//!   in 64 KiB chunks and discarded; prints `ok: N`, `body-bytes: <total>`,
//!   `elapsed-ms: <ms, 3 decimals>` (the loop only, timed in the guest).
//!
//! Errors: `error: <ErrorKind Debug> <message>` on stderr, exit 1; bad usage exit 2.

use std::io::{self, Read, Write};
use std::time::Instant;
use wasmgate_guest::{Error, Request, Response, wait_all};

const CHUNK: usize = 64 * 1024;

/// An endless reader of the repeating `0123456789abcdef` pattern, limited with `take`.
struct Pattern {
    offset: u64,
}

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        const P: &[u8] = b"0123456789abcdef";
        for b in buf.iter_mut() {
            *b = P[(self.offset % 16) as usize];
            self.offset += 1;
        }
        Ok(buf.len())
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: rust-guest-client <get URL | headers URL | post URL SIZE | download URL | concurrent URL N | bench URL N>"
    );
    std::process::exit(2)
}

fn print_response(resp: Response) -> Result<(), Error> {
    println!("status: {}", resp.status());
    for (name, value) in resp.headers() {
        println!("header: {name}: {}", String::from_utf8_lossy(value));
    }
    let body = resp.bytes()?;
    println!("body-bytes: {}", body.len());
    println!("---");
    let mut out = io::stdout().lock();
    let _ = out.write_all(&body);
    let _ = out.write_all(b"\n");
    Ok(())
}

fn download(url: &str) -> Result<(), Error> {
    let mut resp = Request::get(url).send()?;
    println!("status: {}", resp.status());
    let total = drain(&mut resp, &mut vec![0u8; CHUNK])?;
    println!("body-bytes: {total}");
    Ok(())
}

/// Reads a body to its end through `buf`, counting the bytes.
fn drain(resp: &mut Response, buf: &mut [u8]) -> Result<u64, Error> {
    let mut total = 0u64;
    loop {
        match resp.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) => {
                return Err(e
                    .get_ref()
                    .and_then(|e| e.downcast_ref::<Error>())
                    .cloned()
                    .unwrap_or_else(|| panic!("not a wasmgate error: {e}")));
            }
        }
    }
}

fn bench(url: &str, n: u64) -> Result<(), Error> {
    let started = Instant::now();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    for _ in 0..n {
        let mut resp = Request::get(url).send()?;
        total += drain(&mut resp, &mut buf)?;
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    println!("ok: {n}");
    println!("body-bytes: {total}");
    println!("elapsed-ms: {ms:.3}");
    Ok(())
}

fn concurrent(url: &str, n: usize) -> i32 {
    let started = Instant::now();
    let mut pending = Vec::new();
    let mut failed_to_start = Vec::new();
    for i in 0..n {
        match Request::get(url).start() {
            Ok(p) => pending.push((i, p)),
            Err(e) => failed_to_start.push((i, e)),
        }
    }
    let (order, pending): (Vec<usize>, Vec<_>) = pending.into_iter().unzip();
    let mut results: Vec<(usize, Result<u16, Error>)> = order
        .into_iter()
        .zip(wait_all(pending))
        .map(|(i, r)| {
            (
                i,
                r.and_then(|resp| {
                    let status = resp.status();
                    resp.bytes().map(|_| status)
                }),
            )
        })
        .collect();
    let elapsed = started.elapsed().as_millis();
    results.extend(failed_to_start.into_iter().map(|(i, e)| (i, Err(e))));
    results.sort_by_key(|(i, _)| *i);
    let mut ok = 0;
    for (i, r) in &results {
        match r {
            Ok(status) => {
                ok += 1;
                println!("result {i}: status {status}");
            }
            Err(e) => println!("result {i}: error {:?} {}", e.kind(), e.message()),
        }
    }
    println!("ok: {ok}");
    println!("elapsed-ms: {elapsed}");
    if ok == n { 0 } else { 1 }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.get(1..).unwrap_or_default() {
        ["get", url] => Request::get(*url).send().and_then(print_response),
        ["headers", url] => Request::get(*url)
            .header("x-from-guest", "42")
            .send()
            .and_then(print_response),
        ["post", url, size] => {
            let size: u64 = size.parse().unwrap_or_else(|_| usage());
            Request::post(*url)
                .body_reader(Pattern { offset: 0 }.take(size))
                .send()
                .and_then(print_response)
        }
        ["download", url] => download(url),
        ["bench", url, n] => bench(url, n.parse().unwrap_or_else(|_| usage())),
        ["concurrent", url, n] => {
            let n = n.parse().unwrap_or_else(|_| usage());
            let code = concurrent(url, n);
            let _ = io::stdout().flush();
            std::process::exit(code);
        }
        _ => usage(),
    };
    if let Err(e) = result {
        let _ = io::stdout().flush();
        eprintln!("error: {:?} {}", e.kind(), e.message());
        std::process::exit(1);
    }
}
