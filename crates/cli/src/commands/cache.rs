//! `wasmgate cache`: see and empty the compiled-code cache that `run` keeps.

use crate::exit::ExitCodeKind;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

/// Flags of `wasmgate cache`.
#[derive(Args)]
pub(crate) struct CacheCommand {
    #[command(subcommand)]
    action: CacheAction,
}

#[derive(Subcommand)]
enum CacheAction {
    /// List the entries, most recently used first, with their sizes and the total.
    List,
    /// Delete every entry (runs in progress are unaffected).
    Clear,
    /// Print the cache directory.
    Dir,
}

impl CacheCommand {
    pub(crate) fn execute(self) -> ExitCode {
        let Some(dir) = wasmgate::default_cache_dir() else {
            eprintln!(
                "error: no cache directory: neither XDG_CACHE_HOME (absolute) nor HOME is set"
            );
            return ExitCode::from(ExitCodeKind::Usage.code());
        };
        match self.action {
            CacheAction::Dir => {
                println!("{}", dir.display());
                ExitCode::SUCCESS
            }
            CacheAction::List => list(dir),
            CacheAction::Clear => match wasmgate::clear_cache(&dir) {
                Ok((n, bytes)) => {
                    println!(
                        "removed {n} {} ({}) from {}",
                        plural(n),
                        human(bytes),
                        dir.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => io_error("clear", &dir, e),
            },
        }
    }
}

fn list(dir: PathBuf) -> ExitCode {
    let entries = match wasmgate::cache_entries(&dir) {
        Ok(e) => e,
        Err(e) => return io_error("list", &dir, e),
    };
    let now = SystemTime::now();
    for e in &entries {
        let age = now
            .duration_since(e.last_used)
            .map(|d| format!("{} ago", human_age(d.as_secs())))
            .unwrap_or_else(|_| "just now".into());
        let name = e.path.file_name().unwrap_or_default().to_string_lossy();
        println!(
            "{:>10}  {:<14}  {}",
            human(e.size),
            age,
            &name[..16.min(name.len())]
        );
    }
    let total: u64 = entries.iter().map(|e| e.size).sum();
    println!(
        "{} {}, {} in {} (default limit {}; see `--cache-max-size` of run)",
        entries.len(),
        plural(entries.len()),
        human(total),
        dir.display(),
        human(wasmgate::DEFAULT_CACHE_MAX_SIZE)
    );
    ExitCode::SUCCESS
}

fn io_error(what: &str, dir: &std::path::Path, e: std::io::Error) -> ExitCode {
    eprintln!("error: cannot {what} the cache in {}: {e}", dir.display());
    ExitCode::from(ExitCodeKind::Usage.code())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "entry" } else { "entries" }
}

/// `1.5 MiB`-style sizes.
pub(crate) fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

fn human_age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86400),
    }
}
