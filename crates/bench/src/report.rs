//! The report: one row per measured figure, the plain-text table and the JSON form.

use crate::stats::Summary;
use serde::Serialize;
use std::fmt::Write;

/// One measured figure for one subject (floor, native, a guest kind, wasmtime).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `P1`, `P2`, `P3` or `P5`.
    pub figure: &'static str,
    /// What was measured: `floor`, `native`, `component`, `rust-core`, `go-core`,
    /// `wasmtime`, or a P3 case.
    pub subject: String,
    /// The unit of `value`: `req/s`, `MB/s`, `MiB`, `ms`.
    pub unit: &'static str,
    /// The figure over the runs.
    pub value: Summary,
    /// The figure relative to its reference, paired run by run (see `ratio_of`).
    pub ratio: Option<Summary>,
    /// What `ratio` divides, e.g. `time/request ÷ floor`.
    pub ratio_of: Option<&'static str>,
    /// P1: µs per request over the floor, `(1/rps − 1/rps_floor)·1e6` paired run by run
    /// (can be negative in a noisy run).
    pub overhead_us: Option<Summary>,
    /// The target from the issue, as text.
    pub target: Option<String>,
    /// Whether the median (the maximum for RSS) meets the target.
    pub pass: Option<bool>,
}

impl Row {
    /// A row without ratio or target.
    pub fn plain(figure: &'static str, subject: &str, unit: &'static str, value: Summary) -> Row {
        Row {
            figure,
            subject: subject.to_string(),
            unit,
            value,
            ratio: None,
            ratio_of: None,
            overhead_us: None,
            target: None,
            pass: None,
        }
    }

    /// Adds a ratio.
    pub fn with_ratio(mut self, ratio: Option<Summary>, of: &'static str) -> Row {
        self.ratio = ratio;
        self.ratio_of = Some(of);
        self
    }

    /// Adds the per-request overhead over the floor (P1).
    pub fn with_overhead(mut self, overhead_us: Option<Summary>) -> Row {
        self.overhead_us = overhead_us;
        self
    }

    /// Adds a target and whether it is met.
    pub fn with_target(mut self, target: String, pass: bool) -> Row {
        self.target = Some(target);
        self.pass = Some(pass);
        self
    }
}

/// The machine the figures were measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Online CPUs (`nproc --all`: not reduced by `--pin`).
    pub cpus: usize,
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// 1-minute load average when the bench started (others share the machine).
    pub load_average: String,
}

impl Machine {
    /// Describes this machine.
    pub fn describe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let load_average = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(str::to_string))
            .unwrap_or_default();
        Machine {
            cpus: online_cpus(),
            cpu_model,
            load_average,
        }
    }
}

/// CPUs online, whatever this process's affinity (`available_parallelism` would say 1
/// when pinned).
fn online_cpus() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n)
        .ok()
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Everything one bench invocation measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// UTC start time, `YYYY-MM-DDTHH:MM:SSZ`.
    pub date: String,
    /// Where it ran.
    pub machine: Machine,
    /// The `wasmgate` that ran the guests.
    pub wasmgate: String,
    /// The Wasmtime CLI of the `wasmtime` row (`--wasmtime`) and its version, if any.
    pub wasmtime: Option<String>,
    /// Whether the whole bench ran on one CPU (`--pin`).
    pub pinned: bool,
    /// That CPU.
    pub pinned_cpu: Option<usize>,
    /// Tiny counts (CI).
    pub smoke: bool,
    /// Runs per figure.
    pub runs: usize,
    /// The sizes used, e.g. `p1_requests`.
    pub counts: serde_json::Value,
    /// Notes on how figures were taken (e.g. whether the compiled-code cache exists).
    pub notes: Vec<String>,
    /// The figures.
    pub rows: Vec<Row>,
}

fn num(v: f64) -> String {
    if v >= 1000.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

impl Report {
    /// The plain-text table.
    pub fn table(&self) -> String {
        let header = [
            "fig",
            "subject",
            "unit",
            "median",
            "min",
            "max",
            "ratio",
            "ratio min–max",
            "of",
            "+µs/req",
            "target",
            "result",
        ];
        let mut lines: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
        for r in &self.rows {
            let (ratio, spread) = match &r.ratio {
                Some(s) => (
                    format!("{:.3}", s.median),
                    format!("{:.3}–{:.3}", s.min, s.max),
                ),
                None => (String::new(), String::new()),
            };
            lines.push(vec![
                r.figure.to_string(),
                r.subject.clone(),
                r.unit.to_string(),
                num(r.value.median),
                num(r.value.min),
                num(r.value.max),
                ratio,
                spread,
                r.ratio_of.unwrap_or("").to_string(),
                r.overhead_us
                    .as_ref()
                    .map_or(String::new(), |o| format!("{:.1}", o.median)),
                r.target.clone().unwrap_or_default(),
                match r.pass {
                    Some(true) => "PASS".into(),
                    Some(false) => "MISS".into(),
                    None => String::new(),
                },
            ]);
        }
        let widths: Vec<usize> = (0..header.len())
            .map(|c| {
                lines
                    .iter()
                    .map(|l| l[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "wasmgate-bench {} — {} CPUs ({}), load {} — {} — {} run(s){} — {}{}",
            self.date,
            self.machine.cpus,
            self.machine.cpu_model,
            self.machine.load_average,
            match self.pinned_cpu {
                Some(cpu) => format!("pinned to CPU {cpu}"),
                None => "not pinned".into(),
            },
            self.runs,
            if self.smoke { ", SMOKE counts" } else { "" },
            self.wasmgate,
            self.wasmtime
                .as_ref()
                .map_or(String::new(), |w| format!(" — wasmtime {w}")),
        );
        for line in &lines {
            let cells: Vec<String> = line
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (cell, w))| {
                    let pad = w - cell.chars().count();
                    // Numbers right-aligned, text left-aligned.
                    if (3..=6).contains(&i) {
                        format!("{}{cell}", " ".repeat(pad))
                    } else {
                        format!("{cell}{}", " ".repeat(pad))
                    }
                })
                .collect();
            let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (civil-from-days, proleptic Gregorian).
pub fn utc_timestamp(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps() {
        assert_eq!(super::utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::utc_timestamp(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
