//! `wasmgate-bench`: how much running a program as a wasmgate guest costs against the
//! physical limit of a Rust HTTP client on the same stack (the *floor*), measured in one
//! run on one machine.
//!
//! - **P1** request overhead: sequential GETs of a 1 KiB body over keep-alive;
//! - **P2** streaming: one large response read in chunks and discarded, and the peak
//!   RSS of the `wasmgate` process;
//! - **P3** start-up: wall time of `wasmgate run` for a tiny guest, compiling vs cached,
//!   against spawning `/bin/true`;
//! - **P5** concurrency: N requests to an endpoint that waits 100 ms, issued at once by
//!   one guest, against one request;
//! - **S1** serving: `wasmgate serve` under load from `wrk` (req/s, p50, p99) for three
//!   handlers, beside `wasmtime serve` with the same component when `--wasmtime` is given.
//!
//! The reference is the **floor**, hyper-util's plain client with no policy, in this
//! process on a current-thread runtime; **native** is [`wasmgate::OutboundClient`] driven
//! the same way (the cost of the policy stack itself). Guests run in a real `wasmgate`
//! process (and, with `--wasmtime`, one under Wasmtime's own CLI) and time their own loops
//! (an `elapsed-ms:` line), so start-up and compilation stay out of P1, P2 and P5. See
//! docs/benchmarks.md.

mod figures;
pub mod floor;
mod inproc;
mod native;
pub mod null_http;
pub mod pin;
pub mod proc;
pub mod report;
mod serve_bench;
pub mod serve_child;
pub mod stats;
pub mod wasmtime;
pub mod wrk;

use floor::Floor;
use native::Native;
use proc::Wasmgate;
pub use report::{Report, Row};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};
use wasmgate_test_support::TestServer;

/// The figures, in run order.
pub const FIGURES: [&str; 5] = ["P1", "P2", "P3", "P5", serve_bench::FIGURE];

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Tiny counts (50 requests, 4 MiB, 2 runs unless `runs` says otherwise): for CI.
    pub smoke: bool,
    /// Runs per figure; `None` = 5 (2 with `smoke`).
    pub runs: Option<usize>,
    /// Only these figures (`P1`, …); empty = all.
    pub only: Vec<String>,
    /// The `wasmgate` binary (`self`: this binary acting as wasmgate); `None` =
    /// `$WASMGATE_BIN`, else `target/release/wasmgate` (built first).
    pub wasmgate: Option<PathBuf>,
    /// Build `target/release/wasmgate` with cargo before using it.
    pub build: bool,
    /// Print progress to stderr.
    pub verbose: bool,
    /// The CPU the process was pinned to by [`pin::pin_to_first_cpu`] (`--pin`), for the
    /// report. The library does not pin: that must happen before any thread exists, so
    /// it is `main`'s first step.
    pub pinned_cpu: Option<usize>,
    /// Wasmtime's CLI, for the optional `wasmtime` row of P1 and `wasmtime serve` in S1
    /// (`--wasmtime`).
    pub wasmtime: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            smoke: false,
            runs: None,
            only: Vec::new(),
            wasmgate: None,
            build: true,
            verbose: true,
            pinned_cpu: None,
            wasmtime: None,
        }
    }
}

/// Sizes of the workloads.
#[derive(Debug, Clone, Copy)]
struct Counts {
    runs: usize,
    /// P1: sequential requests per run.
    p1_requests: u64,
    /// P1: body size.
    p1_body: u64,
    /// P2: response size.
    p2_bytes: u64,
    /// P3: spawns per run for the floor and the cached case.
    p3_spawns: usize,
    /// P5: concurrent requests and the server's delay.
    p5_requests: u64,
    p5_delay_ms: u64,
    /// S1: seconds of load per handler, server and run (`wrk -d`).
    s1_seconds: u32,
}

impl Counts {
    fn new(o: &Options) -> Counts {
        let runs = o.runs.unwrap_or(if o.smoke { 2 } else { 5 }).max(1);
        if o.smoke {
            Counts {
                runs,
                p1_requests: 50,
                p1_body: 1024,
                p2_bytes: 4 << 20,
                p3_spawns: 1,
                p5_requests: 50,
                p5_delay_ms: 100,
                // wrk's shortest run.
                s1_seconds: 1,
            }
        } else {
            Counts {
                runs,
                p1_requests: 10_000,
                p1_body: 1024,
                p2_bytes: 1 << 30,
                p3_spawns: 3,
                p5_requests: 50,
                p5_delay_ms: 100,
                // As the peer figures (`wrk -d10s`).
                s1_seconds: 10,
            }
        }
    }
}

/// A guest kind measured against the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    /// wasip2 component through wasi:http (`test-programs` `http-client`).
    Component,
    /// Rust core module through the host ABI (`guest/rust` `rust-guest-client`, wasip1).
    RustCore,
    /// Go core module through the Go transport (`guest/go` `httpclient`).
    GoCore,
}

const KINDS: [Kind; 3] = [Kind::Component, Kind::RustCore, Kind::GoCore];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Component => "component",
            Kind::RustCore => "rust-core",
            Kind::GoCore => "go-core",
        }
    }
}

/// Who is measured in a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Subject {
    /// hyper-util's plain client, no policy (the reference): in a process of its own in
    /// P1 and P2 (as guests are), in the bench process in P5.
    Floor,
    /// The same client in the bench process (P1, P2), for comparison.
    FloorInProcess,
    /// The floor in its own process copying every body chunk into a 64 KiB buffer (P2):
    /// the one copy every guest makes, as its body must land in its linear memory.
    FloorCopy,
    /// wasmgate's `OutboundClient` in this process.
    Native,
    /// A guest under `wasmgate run`.
    Guest(Kind),
    /// The component guest under Wasmtime's own CLI (P1 only, with `--wasmtime`).
    Wasmtime,
    /// The component guest under plain Wasmtime with a `send_request` hook that answers
    /// from memory (P1 only): Wasmtime's own per-request cost, no network (`null_http.rs`).
    WasiHttpNull,
    /// The go-core guest's program built natively (no WebAssembly, no wasmgate): what
    /// Go's own runtime and `net/http` cost, the part of go-core no host can remove.
    GoNative,
}

impl Subject {
    fn name(self) -> &'static str {
        match self {
            Subject::Floor => "floor",
            Subject::FloorInProcess => "floor in-process",
            Subject::FloorCopy => "floor copying",
            Subject::Native => "native",
            Subject::Guest(k) => k.name(),
            Subject::Wasmtime => "wasmtime",
            Subject::GoNative => "go-native",
            Subject::WasiHttpNull => "wasi-http null",
        }
    }
}

/// Shared state of one bench invocation.
struct Ctx {
    counts: Counts,
    verbose: bool,
    server: TestServer,
    floor: Floor,
    native: Native,
    wasmgate: Wasmgate,
    wasmtime: Option<wasmtime::Wasmtime>,
    /// `XDG_CACHE_HOME` of every guest run outside P3 (private to this invocation).
    scratch: PathBuf,
    wasm: HashMap<Kind, PathBuf>,
    /// The native build of the go-core guest's program, once built.
    go_native: Option<PathBuf>,
}

impl Ctx {
    fn log(&self, msg: impl AsRef<str>) {
        if self.verbose {
            eprintln!("wasmgate-bench: {}", msg.as_ref());
        }
    }

    /// The built guest of `kind` (built in release mode on first use).
    fn wasm(&mut self, kind: Kind) -> PathBuf {
        if let Some(p) = self.wasm.get(&kind) {
            return p.clone();
        }
        self.log(format!("building the {} guest (release)", kind.name()));
        let p = match kind {
            Kind::Component => {
                wasmgate_test_support::guest(wasmgate_test_support::Guest::HttpClient)
            }
            Kind::RustCore => {
                wasmgate_test_support::rust_guest::rust_guest("rust-guest-client", "wasm32-wasip1")
            }
            Kind::GoCore => wasmgate_test_support::go::go_guest("httpclient"),
        };
        self.wasm.insert(kind, p.clone());
        p
    }

    /// The go-core guest's program built for this machine (built on first use).
    fn go_native(&mut self) -> PathBuf {
        if let Some(p) = &self.go_native {
            return p.clone();
        }
        self.log("building the go-core program natively");
        let p = wasmgate_test_support::go::go_native("httpclient");
        self.go_native = Some(p.clone());
        p
    }
}

/// Runs the selected figures and returns the report.
pub fn run(options: &Options) -> Result<Report, String> {
    let counts = Counts::new(options);
    let only: Vec<String> = options
        .only
        .iter()
        .map(|s| s.trim().to_uppercase())
        .collect();
    if let Some(bad) = only.iter().find(|f| !FIGURES.contains(&f.as_str())) {
        return Err(format!("unknown figure {bad}; expected one of {FIGURES:?}"));
    }
    let selected = |f: &str| only.is_empty() || only.iter().any(|o| o == f);
    let date = utc_now();
    let machine = report::Machine::describe();
    // Checked first: a wrong --wasmtime should fail before a long build or run.
    let wasmtime = options
        .wasmtime
        .as_deref()
        .map(wasmtime::Wasmtime::locate)
        .transpose()?;
    let wasmgate = proc::locate(options.wasmgate.as_deref(), options.build)?;
    let server = TestServer::http();
    let floor = floor::floor()?;
    let native = native::native(&server.base())?;
    let scratch = std::env::temp_dir().join(format!("wasmgate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let mut ctx = Ctx {
        counts,
        verbose: options.verbose,
        server,
        floor,
        native,
        wasmgate,
        wasmtime,
        scratch: scratch.clone(),
        wasm: HashMap::new(),
        go_native: None,
    };
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let result = (|| {
        if selected("P1") {
            rows.extend(figures::p1(&mut ctx)?);
        }
        if selected("P2") {
            rows.extend(figures::p2(&mut ctx)?);
        }
        if selected("P3") {
            let (r, n) = figures::p3(&mut ctx)?;
            rows.extend(r);
            notes.extend(n);
        }
        if selected("P5") {
            rows.extend(figures::p5(&mut ctx)?);
        }
        if selected(serve_bench::FIGURE) {
            let (r, n) = serve_bench::s1(&mut ctx)?;
            rows.extend(r);
            notes.extend(n);
        }
        Ok::<_, String>(())
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result?;
    Ok(Report {
        date,
        machine,
        wasmgate: ctx.wasmgate.describe(),
        wasmtime: ctx.wasmtime.as_ref().map(wasmtime::Wasmtime::describe),
        pinned: options.pinned_cpu.is_some(),
        pinned_cpu: options.pinned_cpu,
        smoke: options.smoke,
        runs: counts.runs,
        counts: serde_json::json!({
            "p1_requests": counts.p1_requests,
            "p1_body_bytes": counts.p1_body,
            "p2_bytes": counts.p2_bytes,
            "p3_spawns_per_run": counts.p3_spawns,
            "p5_requests": counts.p5_requests,
            "p5_delay_ms": counts.p5_delay_ms,
            "s1_seconds": counts.s1_seconds,
            "s1_wrk_threads": wrk::THREADS,
            "s1_wrk_connections": wrk::CONNECTIONS,
        }),
        notes,
        rows,
    })
}

fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    report::utc_timestamp(secs)
}
