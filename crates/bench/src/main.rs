//! `wasmgate-bench`: see the library docs and docs/benchmarks.md.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use wasmgate_bench::{Options, pin, proc::AS_WASMGATE_ENV};

/// Measure wasmgate against the floor — hyper-util's plain client on the same stack, no
/// policy — and its own native client (P1 request overhead, P2 streaming, P3 start-up,
/// P5 concurrency) on local servers at 127.0.0.1, and `wasmgate serve` under load from
/// wrk (S1).
#[derive(Parser)]
#[command(name = "wasmgate-bench", version)]
struct Cli {
    /// Tiny counts (50 requests, 4 MiB, 2 runs): checks that everything works, in CI.
    #[arg(long)]
    smoke: bool,
    /// Runs per figure (default 5, or 2 with --smoke); the report gives median/min/max.
    #[arg(long, value_name = "N")]
    runs: Option<usize>,
    /// Print the report as JSON on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Only these figures, e.g. `--only P1,P3` or `--only S1`.
    #[arg(long, value_delimiter = ',', value_name = "P1,P2,P3,P5,S1")]
    only: Vec<String>,
    /// The wasmgate binary to run guests with (`self`: this binary acting as wasmgate).
    /// Default: $WASMGATE_BIN, else target/release/wasmgate, built first.
    #[arg(long, value_name = "PATH")]
    wasmgate: Option<PathBuf>,
    /// Do not run `cargo build --release -p wasmgate-cli` before using target/release/wasmgate.
    #[arg(long)]
    no_build: bool,
    /// No progress lines on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Run everything (server, floor, native, every wasmgate child) on one CPU: the first
    /// of this process's affinity mask.
    #[arg(long)]
    pin: bool,
    /// Wasmtime's CLI: adds a P1 row of the same wasi:http component under
    /// `PATH run -S http` (no policy; a connection per request), and `PATH serve` beside
    /// `wasmgate serve` in S1.
    #[arg(long, value_name = "PATH")]
    wasmtime: Option<PathBuf>,
}

fn main() -> ExitCode {
    if std::env::var_os(wasmgate_bench::null_http::AS_NULL_HTTP_ENV).is_some() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        return wasmgate_bench::null_http::child_main(&args);
    }
    if std::env::var_os(wasmgate_bench::floor::AS_FLOOR_ENV).is_some() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        return wasmgate_bench::floor::child_main(&args);
    }
    if std::env::var_os(AS_WASMGATE_ENV).is_some() {
        // Re-executed as `wasmgate` (`--wasmgate self`), as the real binary's main does.
        if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
            // SAFETY: first thing in main, before any other thread exists.
            unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
        }
        return wasmgate_cli::main();
    }
    let cli = Cli::parse();
    // Pin before anything starts a thread (argument parsing does not): threads and
    // children inherit the mask, threads already running would not.
    let pinned_cpu = if cli.pin {
        match pin::pin_to_first_cpu() {
            Ok(cpu) => Some(cpu),
            Err(e) => {
                eprintln!("error: --pin: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let options = Options {
        smoke: cli.smoke,
        runs: cli.runs,
        only: cli.only,
        wasmgate: cli.wasmgate,
        build: !cli.no_build,
        verbose: !cli.quiet,
        pinned_cpu,
        wasmtime: cli.wasmtime,
    };
    match wasmgate_bench::run(&options) {
        Ok(report) => {
            if cli.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                print!("{}", report.table());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
