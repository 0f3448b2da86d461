//! `http-client`: an outbound HTTP client written directly against the raw
//! `wasi:http` bindings of the `wasip2` crate (no async runtime, no wstd).
//!
//! See `test-programs/README.md` for the command-line contract; the
//! integration tests parse stdout/stderr, so the output format is fixed.

use std::cell::Cell;
use std::env;
use std::fmt;
use std::io::{self, Write};

use test_programs::{fill_pattern, ms_to_ns, parse_i32, parse_u64};
use wasip2::clocks::monotonic_clock;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse, Method,
    OutgoingBody, OutgoingRequest, RequestOptions, Scheme, http_error_code,
};
use wasip2::io::poll::{Pollable, poll};
use wasip2::io::streams::StreamError;

mod body;
mod failure;

use body::*;
use failure::*;

const USAGE: &str = "usage: http-client <get URL | post URL SIZE [CHUNK] | download URL | \
seq URL N | concurrent URL N | bench URL N | bench-concurrent URL N | env | exit CODE | read-file PATH> [-H NAME:VALUE]... \
[--method M] [--content-length] [--connect-timeout-ms N] [--first-byte-timeout-ms N] \
[--between-bytes-timeout-ms N] [--verbatim-scheme] [--no-authority]";

/// Largest `blocking-read` request when consuming a response body.
const READ_CHUNK: u64 = 64 * 1024;
/// Default size of each body write for `post`.
const DEFAULT_WRITE_CHUNK: u64 = 64 * 1024;
/// Hard cap on a single write buffer, whatever `check-write` permits.
const MAX_WRITE: u64 = 16 * 1024 * 1024;
/// How long to wait for the response future to explain a failed upload.
const UPLOAD_ERROR_GRACE_NS: u64 = 2_000_000_000;

fn main() {
    let args: Vec<String> = env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = run(&args);
    exit(code)
}

/// Flushes stdio and exits with `code`.
///
/// On wasm32-wasip2, Rust's `std::process::exit` goes through wasi-libc,
/// which uses `wasi:cli/exit.exit(result)`: the host only sees 0 or 1. With
/// the `exit-with-code` cargo feature, codes 2..=255 use the (unstable)
/// `exit-with-code` import instead; the host must then enable it.
fn exit(code: i32) -> ! {
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    #[cfg(feature = "exit-with-code")]
    if code > 1
        && let Ok(code) = u8::try_from(code)
    {
        wasip2::cli::exit::exit_with_code(code);
    }
    std::process::exit(code)
}

fn usage(reason: &str) -> ! {
    eprintln!("{USAGE}");
    if !reason.is_empty() {
        eprintln!("  ({reason})");
    }
    exit(2)
}

fn run(args: &[String]) -> i32 {
    let Some(command) = args.get(1) else {
        usage("missing command");
    };
    let rest = &args[2..];

    // Commands that never touch the network take their arguments verbatim.
    match command.as_str() {
        "env" => return cmd_env(),
        "exit" => {
            let [code] = rest else {
                usage("exit takes exactly one argument");
            };
            let Some(code) = parse_i32(code) else {
                usage("exit code must be a decimal integer");
            };
            exit(code);
        }
        "read-file" => {
            let [path] = rest else {
                usage("read-file takes exactly one argument");
            };
            return cmd_read_file(path);
        }
        _ => {}
    }

    let (opts, pos) = parse_options(rest);
    let pos: Vec<&str> = pos.iter().map(String::as_str).collect();

    let result = match (command.as_str(), pos.as_slice()) {
        ("get", [url]) => Client::new(url, opts, Method::Get).get(),
        ("post", [url, size, chunk @ ..]) if chunk.len() <= 1 => {
            let size = parse_u64(size).unwrap_or_else(|| usage("SIZE must be a number"));
            let chunk = match chunk.first() {
                None => DEFAULT_WRITE_CHUNK,
                Some(c) => match parse_u64(c) {
                    Some(c) if c > 0 => c,
                    _ => usage("CHUNK must be a positive number"),
                },
            };
            Client::new(url, opts, Method::Post).post(size, chunk)
        }
        ("download", [url]) => Client::new(url, opts, Method::Get).download(),
        ("seq", [url, n]) => {
            let n = parse_u64(n).unwrap_or_else(|| usage("N must be a number"));
            Client::new(url, opts, Method::Get).seq(n)
        }
        ("concurrent", [url, n]) => {
            let n = parse_u64(n).unwrap_or_else(|| usage("N must be a number"));
            return Client::new(url, opts, Method::Get).concurrent(n);
        }
        ("abandon", [url, n]) => {
            let n = parse_u64(n).unwrap_or_else(|| usage("N must be a number"));
            Client::new(url, opts, Method::Get).abandon(n)
        }
        ("bench", [url, n]) => {
            let n = parse_u64(n).unwrap_or_else(|| usage("N must be a number"));
            Client::new(url, opts, Method::Get).bench(n)
        }
        ("bench-concurrent", [url, n]) => {
            let n = parse_u64(n).unwrap_or_else(|| usage("N must be a number"));
            Client::new(url, opts, Method::Get).bench_concurrent(n)
        }
        (
            "get" | "post" | "download" | "seq" | "concurrent" | "abandon" | "bench"
            | "bench-concurrent",
            _,
        ) => usage("wrong number of arguments"),
        _ => usage("unknown command"),
    };

    match result {
        Ok(()) => 0,
        Err(failure) => {
            eprintln!("error: {failure}");
            1
        }
    }
}

// ---------------------------------------------------------------------------
// Non-network commands

fn cmd_env() -> i32 {
    for (k, v) in env::vars_os() {
        println!("env: {}={}", k.to_string_lossy(), v.to_string_lossy());
    }
    for a in env::args_os() {
        println!("arg: {}", a.to_string_lossy());
    }
    0
}

fn cmd_read_file(path: &str) -> i32 {
    match std::fs::read(path) {
        Ok(contents) => {
            let mut out = io::stdout().lock();
            if let Err(e) = out.write_all(&contents).and_then(|()| out.flush()) {
                eprintln!("error: {e}");
                return 1;
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

// ---------------------------------------------------------------------------
// Options

#[derive(Default)]
struct Opts {
    headers: Vec<(String, String)>,
    method: Option<String>,
    content_length: bool,
    connect_timeout_ms: Option<u64>,
    first_byte_timeout_ms: Option<u64>,
    between_bytes_timeout_ms: Option<u64>,
    /// Send the URL's scheme as written (`Scheme::Other`), e.g. upper-case `HTTP`.
    verbatim_scheme: bool,
    /// Never call `set-authority`.
    no_authority: bool,
}

/// Splits the arguments after the command into options and positionals.
fn parse_options(args: &[String]) -> (Opts, Vec<String>) {
    let mut opts = Opts::default();
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| -> String {
            it.next()
                .cloned()
                .unwrap_or_else(|| usage(&format!("{name} needs a value")))
        };
        let mut millis = |name: &str| -> u64 {
            let v = value(name);
            let ms = parse_u64(&v).unwrap_or_else(|| usage(&format!("{name} needs a number")));
            if ms_to_ns(ms).is_none() {
                usage(&format!("{name} is too large"));
            }
            ms
        };
        match arg.as_str() {
            "-H" => {
                let h = value("-H");
                let Some((name, val)) = h.split_once(':') else {
                    usage("-H needs NAME:VALUE");
                };
                let name = name.trim_matches([' ', '\t']);
                if name.is_empty() {
                    usage("-H needs a header name");
                }
                opts.headers
                    .push((name.to_string(), val.trim_matches([' ', '\t']).to_string()));
            }
            "--method" => opts.method = Some(value("--method")),
            "--content-length" => opts.content_length = true,
            "--verbatim-scheme" => opts.verbatim_scheme = true,
            "--no-authority" => opts.no_authority = true,
            "--connect-timeout-ms" => {
                opts.connect_timeout_ms = Some(millis("--connect-timeout-ms"));
            }
            "--first-byte-timeout-ms" => {
                opts.first_byte_timeout_ms = Some(millis("--first-byte-timeout-ms"));
            }
            "--between-bytes-timeout-ms" => {
                opts.between_bytes_timeout_ms = Some(millis("--between-bytes-timeout-ms"));
            }
            s if s.starts_with('-') && s.len() > 1 => usage(&format!("unknown option {s}")),
            _ => positional.push(arg.clone()),
        }
    }
    (opts, positional)
}

fn parse_method(m: &str) -> Method {
    match m {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "CONNECT" => Method::Connect,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PATCH" => Method::Patch,
        other => Method::Other(other.to_string()),
    }
}

/// The pieces of an absolute `scheme://authority/path?query` URL.
struct Target {
    scheme: Scheme,
    authority: String,
    path_with_query: String,
}

fn parse_url(url: &str) -> Option<Target> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty() {
        return None;
    }
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_string()),
    };
    // The fragment is never sent.
    let rest = rest.split('#').next().unwrap_or_default();
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.is_empty() {
        return None;
    }
    let path_with_query = if path.is_empty() {
        "/".to_string()
    } else if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    Some(Target {
        scheme,
        authority: authority.to_string(),
        path_with_query,
    })
}

// ---------------------------------------------------------------------------
// Errors

struct Client {
    target: Target,
    method: Method,
    opts: Opts,
    warned: Cell<bool>,
}

impl Client {
    fn new(url: &str, opts: Opts, default_method: Method) -> Client {
        let Some(mut target) = parse_url(url) else {
            usage("URL must look like http://host[:port][/path]");
        };
        if opts.verbatim_scheme
            && let Some((scheme, _)) = url.split_once("://")
        {
            target.scheme = Scheme::Other(scheme.to_string());
        }
        let method = opts
            .method
            .as_deref()
            .map(parse_method)
            .unwrap_or(default_method);
        Client {
            target,
            method,
            opts,
            warned: Cell::new(false),
        }
    }

    /// Builds a fresh outgoing-request (headers, method, scheme, authority,
    /// path) for the target.
    fn request(&self, content_length: Option<u64>) -> Result<OutgoingRequest, Failure> {
        let fields = Fields::new();
        for (name, value) in &self.opts.headers {
            fields
                .append(name, value.as_bytes())
                .map_err(header_failure)?;
        }
        if let Some(len) = content_length {
            fields
                .append("content-length", len.to_string().as_bytes())
                .map_err(header_failure)?;
        }
        let req = OutgoingRequest::new(fields);
        req.set_method(&self.method)
            .map_err(|()| other("method rejected"))?;
        req.set_scheme(Some(&self.target.scheme))
            .map_err(|()| other("scheme rejected"))?;
        if !self.opts.no_authority {
            req.set_authority(Some(&self.target.authority))
                .map_err(|()| other("authority rejected"))?;
        }
        req.set_path_with_query(Some(&self.target.path_with_query))
            .map_err(|()| other("path rejected"))?;
        Ok(req)
    }

    /// Fresh request-options (they are consumed by `handle`), or `None` when
    /// no timeout was asked for.
    fn options(&self) -> Option<RequestOptions> {
        let o = &self.opts;
        if o.connect_timeout_ms.is_none()
            && o.first_byte_timeout_ms.is_none()
            && o.between_bytes_timeout_ms.is_none()
        {
            return None;
        }
        let ns = |ms: u64| ms_to_ns(ms).expect("checked while parsing");
        let options = RequestOptions::new();
        let mut accepted = true;
        if let Some(ms) = o.connect_timeout_ms {
            accepted &= options.set_connect_timeout(Some(ns(ms))).is_ok();
        }
        if let Some(ms) = o.first_byte_timeout_ms {
            accepted &= options.set_first_byte_timeout(Some(ns(ms))).is_ok();
        }
        if let Some(ms) = o.between_bytes_timeout_ms {
            accepted &= options.set_between_bytes_timeout(Some(ns(ms))).is_ok();
        }
        if !accepted && !self.warned.replace(true) {
            eprintln!("warning: request-options rejected");
        }
        Some(options)
    }

    /// Sends a request without a body and returns the pending response.
    fn send(&self) -> Result<FutureIncomingResponse, Failure> {
        let req = self.request(None)?;
        outgoing_handler::handle(req, self.options()).map_err(Failure::Http)
    }

    fn get(&self) -> Result<(), Failure> {
        let resp = await_response(self.send()?)?;
        print_response(resp)
    }

    fn post(&self, size: u64, chunk: u64) -> Result<(), Failure> {
        let req = self.request(self.opts.content_length.then_some(size))?;
        let body = req
            .body()
            .map_err(|()| other("outgoing-request.body failed"))?;
        // Hand the request to the host first so that the body is streamed
        // while it is written (writing everything first could deadlock).
        let fut = outgoing_handler::handle(req, self.options()).map_err(Failure::Http)?;
        if let Err(e) = write_body(&body, size, chunk) {
            // Dropping the body without `finish` aborts the request.
            drop(body);
            return Err(explain_upload_failure(&fut, e));
        }
        OutgoingBody::finish(body, None).map_err(Failure::Http)?;
        let resp = await_response(fut)?;
        print_response(resp)
    }

    fn download(&self) -> Result<(), Failure> {
        let resp = await_response(self.send()?)?;
        println!("status: {}", resp.status());
        // Printed even when the body fails: what the guest got before the failure.
        let mut n = 0u64;
        let result = read_body(&resp, |chunk| n += chunk.len() as u64);
        println!("body-bytes: {n}");
        result.map(|_| ())
    }

    fn seq(&self, n: u64) -> Result<(), Failure> {
        let mut ok = 0u64;
        for _ in 0..n {
            let result = self.send().and_then(await_response).and_then(|resp| {
                read_body(&resp, |_| {})?;
                Ok(())
            });
            if let Err(e) = result {
                println!("ok: {ok}");
                return Err(e);
            }
            ok += 1;
        }
        println!("ok: {ok}");
        Ok(())
    }

    /// `bench URL N` (for wasmgate-bench): like `seq`, timed inside the guest so that
    /// start-up and compilation are not counted.
    fn bench(&self, n: u64) -> Result<(), Failure> {
        let started = std::time::Instant::now();
        let mut bytes = 0u64;
        for _ in 0..n {
            let resp = await_response(self.send()?)?;
            bytes += read_body(&resp, |_| {})?;
        }
        print_bench(n, bytes, started);
        Ok(())
    }

    /// `bench-concurrent URL N` (for wasmgate-bench): starts N GETs, waits for all
    /// responses, reads every body; timed inside the guest.
    fn bench_concurrent(&self, n: u64) -> Result<(), Failure> {
        let started = std::time::Instant::now();
        let pending = (0..n).map(|_| self.send()).collect::<Result<Vec<_>, _>>()?;
        let pollables: Vec<Pollable> = pending
            .iter()
            .map(FutureIncomingResponse::subscribe)
            .collect();
        let mut waiting: Vec<&Pollable> = pollables.iter().collect();
        while !waiting.is_empty() {
            let ready = poll(&waiting);
            let mut i = 0u32;
            waiting.retain(|_| {
                let keep = !ready.contains(&i);
                i += 1;
                keep
            });
        }
        drop(pollables);
        let mut bytes = 0u64;
        for fut in pending {
            let resp = await_response(fut)?;
            bytes += read_body(&resp, |_| {})?;
        }
        print_bench(n, bytes, started);
        Ok(())
    }

    /// Starts N requests and exits (`exit 0`) without waiting for or dropping any, so
    /// they are still open when the guest exits. With `HANG` set it first waits on
    /// them, for a `--timeout` to fire.
    fn abandon(&self, n: u64) -> Result<(), Failure> {
        let started = (0..n).map(|_| self.send()).collect::<Result<Vec<_>, _>>()?;
        println!("started: {n}");
        if std::env::var_os("HANG").is_some() {
            for fut in &started {
                fut.subscribe().block();
            }
        }
        std::process::exit(0)
    }

    fn concurrent(&self, n: u64) -> i32 {
        // Start every request before waiting on any of them.
        let started: Vec<Result<FutureIncomingResponse, Failure>> =
            (0..n).map(|_| self.send()).collect();

        // Wait until every started request has its response (or error).
        let mut waiting: Vec<Pollable> = started
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(FutureIncomingResponse::subscribe)
            .collect();
        while !waiting.is_empty() {
            let ready = {
                let refs: Vec<&Pollable> = waiting.iter().collect();
                poll(&refs)
            };
            let mut is_ready = vec![false; waiting.len()];
            for i in ready {
                is_ready[i as usize] = true;
            }
            let mut i = 0;
            waiting.retain(|_| {
                let keep = !is_ready[i];
                i += 1;
                keep
            });
        }

        let mut ok = 0u64;
        for (i, started) in started.into_iter().enumerate() {
            let result = started.and_then(await_response).and_then(|resp| {
                let status = resp.status();
                read_body(&resp, |_| {})?;
                Ok(status)
            });
            match result {
                Ok(status) => {
                    ok += 1;
                    println!("result {i}: status {status}");
                }
                Err(e) => println!("result {i}: error {e}"),
            }
        }
        println!("ok: {ok}");
        if ok == n { 0 } else { 1 }
    }
}
