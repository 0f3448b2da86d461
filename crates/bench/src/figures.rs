//! The figures. Every run measures every subject (rotating who goes first), so ratios
//! pair figures taken moments apart on the same machine. P1 and P2 ratios are to the
//! floor (hyper-util's plain client, see `floor.rs`).

use crate::inproc::Timed;
use crate::proc::{self, Finished};
use crate::stats::Summary;
use crate::{Ctx, KINDS, Kind, Row, Subject};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The subjects of a figure: floor, native, the guest kinds, and (P1 only, with
/// `--wasmtime`) the component under Wasmtime's CLI.
fn subjects(ctx: &Ctx, with_wasmtime: bool) -> Vec<Subject> {
    let mut all = vec![Subject::Floor, Subject::FloorInProcess, Subject::Native];
    all.extend(KINDS.map(Subject::Guest));
    all.push(Subject::GoNative);
    if with_wasmtime {
        // P1 only (the flag's name predates this subject).
        all.push(Subject::WasiHttpNull);
    }
    if with_wasmtime && ctx.wasmtime.is_some() {
        all.push(Subject::Wasmtime);
    }
    all
}

/// `subjects` rotated one place per run, so no subject always goes first (or always
/// right after a particular other one).
fn order(run: usize, subjects: &[Subject]) -> Vec<Subject> {
    let mut all = subjects.to_vec();
    let len = all.len();
    all.rotate_left(run % len);
    all
}

/// `wasmgate run --allow BASE GUEST ARGS…` with the invocation's private cache home.
fn guest(ctx: &mut Ctx, kind: Kind, args: &[&str]) -> Result<Finished, String> {
    let wasm = ctx.wasm(kind);
    let mut cmd = ctx.wasmgate.command(["run", "--allow", &ctx.server.base()]);
    cmd.arg(&wasm)
        .args(args)
        .env("XDG_CACHE_HOME", ctx.scratch.join("cache"));
    proc::run(cmd)?.check(&format!("{} guest {}", kind.name(), args.join(" ")))
}

/// `wasmtime run -S http COMPONENT ARGS…` (no policy), same cache home as the guests.
fn wasmtime(ctx: &mut Ctx, args: &[&str]) -> Result<Finished, String> {
    let wasm = ctx.wasm(Kind::Component);
    let w = ctx.wasmtime.as_ref().ok_or("no --wasmtime given")?;
    let mut cmd = w.command(&wasm, args);
    cmd.env("XDG_CACHE_HOME", ctx.scratch.join("cache"));
    proc::run(cmd)?.check(&format!("wasmtime component {}", args.join(" ")))
}

/// The floor client in a process of its own (`floor.rs`): `bench URL N`.
fn floor_child(args: &[&str]) -> Result<Finished, String> {
    let exe = std::env::current_exe().map_err(|e| format!("the bench binary's path: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.env(crate::floor::AS_FLOOR_ENV, "1").args(args);
    proc::run(cmd)?.check(&format!("floor {}", args.join(" ")))
}

/// The component guest under plain Wasmtime answering from memory (`null_http.rs`).
fn wasi_http_null(ctx: &mut Ctx, args: &[&str]) -> Result<Finished, String> {
    let wasm = ctx.wasm(Kind::Component);
    let exe = std::env::current_exe().map_err(|e| format!("the bench binary's path: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.env(crate::null_http::AS_NULL_HTTP_ENV, "1")
        .arg(&wasm)
        .args(args);
    proc::run(cmd)?.check(&format!("wasi-http null {}", args.join(" ")))
}

/// The go-core guest's program run natively: `httpclient ARGS…` against the same server.
fn go_native(ctx: &mut Ctx, args: &[&str]) -> Result<Finished, String> {
    let mut cmd = Command::new(ctx.go_native());
    cmd.args(args);
    proc::run(cmd)?.check(&format!("go-native {}", args.join(" ")))
}

/// Runs every guest once (one request) so that P1's and P2's peak RSS and times never
/// include compiling it: the compiled-code cache is warm from here on.
fn warm_up(ctx: &mut Ctx, url: &str) -> Result<(), String> {
    for k in KINDS {
        guest(ctx, k, &["bench", url, "1"])?;
    }
    Ok(())
}

/// The guest's own `elapsed-ms:` after checking `ok:` and (if given) `body-bytes:`.
fn guest_ms(f: &Finished, ok: u64, bytes: Option<u64>) -> Result<f64, String> {
    let bad = |what: &str| format!("guest output lacks {what}:\n{}", f.stdout);
    if f.number("ok: ") != Some(ok as f64) {
        return Err(bad(&format!("ok: {ok}")));
    }
    if let Some(b) = bytes
        && f.number("body-bytes: ") != Some(b as f64)
    {
        return Err(bad(&format!("body-bytes: {b}")));
    }
    match f.number("elapsed-ms: ") {
        Some(ms) if ms > 0.0 => Ok(ms),
        // An integer `elapsed-ms` can round to 0 for a very fast loop.
        Some(_) => Ok(0.001),
        None => Err(bad("elapsed-ms")),
    }
}

/// The wall time of an in-process loop in s, after checking the bytes it read.
fn checked(s: Subject, t: Timed, bytes: u64) -> Result<f64, String> {
    if t.bytes != bytes {
        return Err(format!("{} read {} bytes, not {bytes}", s.name(), t.bytes));
    }
    Ok(t.elapsed.as_secs_f64())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Samples per subject.
#[derive(Default)]
struct Samples(HashMap<Subject, Vec<f64>>);

impl Samples {
    fn push(&mut self, s: Subject, v: f64) {
        self.0.entry(s).or_default().push(v);
    }
    fn get(&self, s: Subject) -> &[f64] {
        self.0.get(&s).map_or(&[], Vec::as_slice)
    }
    fn summary(&self, s: Subject) -> Result<Summary, String> {
        Summary::of(self.get(s)).ok_or_else(|| format!("no samples for {}", s.name()))
    }
}

/// P1 target: the most time per request a subject may take, as a multiple of the
/// floor's (none for Wasmtime's CLI, a peer shown for comparison).
fn p1_limit(s: Subject) -> Option<f64> {
    match s {
        Subject::Floor
        | Subject::FloorInProcess
        | Subject::FloorCopy
        | Subject::Wasmtime
        | Subject::GoNative
        | Subject::WasiHttpNull => None,
        Subject::Native => Some(1.1),
        Subject::Guest(Kind::Component) => Some(1.5),
        Subject::Guest(Kind::RustCore) => Some(1.3),
        Subject::Guest(Kind::GoCore) => Some(2.0),
    }
}

/// P1: sequential GETs of a small body over one kept-alive connection.
pub fn p1(ctx: &mut Ctx) -> Result<Vec<Row>, String> {
    let c = ctx.counts;
    let url = ctx.server.url(&format!("/bytes/{}", c.p1_body));
    let n = c.p1_requests;
    let (total, n_arg) = (n * c.p1_body, n.to_string());
    let subjects = subjects(ctx, true);
    warm_up(ctx, &url)?;
    let (mut rps, mut rss) = (Samples::default(), Samples::default());
    for run in 0..c.runs {
        for s in order(run, &subjects) {
            let secs = match s {
                Subject::Floor => {
                    let f = floor_child(&["bench", &url, &n_arg])?;
                    guest_ms(&f, n, Some(total))? / 1000.0
                }
                Subject::FloorInProcess => checked(s, ctx.floor.sequential(&url, n)?, total)?,
                Subject::Native => checked(s, ctx.native.sequential(&url, n)?, total)?,
                Subject::Guest(k) => {
                    let f = guest(ctx, k, &["bench", &url, &n_arg])?;
                    rss.push(s, mib(f.peak_rss_kib));
                    guest_ms(&f, n, Some(total))? / 1000.0
                }
                Subject::Wasmtime => {
                    let f = wasmtime(ctx, &["bench", &url, &n_arg])?;
                    rss.push(s, mib(f.peak_rss_kib));
                    guest_ms(&f, n, Some(total))? / 1000.0
                }
                Subject::GoNative => {
                    let f = go_native(ctx, &["bench", &url, &n_arg])?;
                    rss.push(s, mib(f.peak_rss_kib));
                    guest_ms(&f, n, Some(total))? / 1000.0
                }
                Subject::WasiHttpNull => {
                    let f = wasi_http_null(ctx, &["bench", &url, &n_arg])?;
                    guest_ms(&f, n, Some(total))? / 1000.0
                }
                Subject::FloorCopy => unreachable!("a P2 subject only"),
            };
            rps.push(s, n as f64 / secs);
        }
        ctx.log(format!(
            "P1 run {}/{}: {}",
            run + 1,
            c.runs,
            line(&rps, &subjects, run, "req/s")
        ));
    }
    let floor = rps.get(Subject::Floor);
    let mut rows = vec![Row::plain(
        "P1",
        "floor",
        "req/s",
        rps.summary(Subject::Floor)?,
    )];
    for &s in &subjects[1..] {
        let ratio = Summary::paired(floor, rps.get(s), |f, x| f / x);
        let overhead = Summary::paired(rps.get(s), floor, |x, f| (1.0 / x - 1.0 / f) * 1e6);
        let mut row = Row::plain("P1", s.name(), "req/s", rps.summary(s)?)
            .with_ratio(ratio.clone(), "time/request ÷ floor")
            .with_overhead(overhead);
        if let Some(limit) = p1_limit(s) {
            let pass = ratio.as_ref().is_some_and(|r| r.median <= limit);
            row = row.with_target(format!("ratio ≤ {limit:.1}"), pass);
        }
        rows.push(row);
    }
    // What the Go guest costs beyond Go's own runtime and net/http.
    let go = Subject::Guest(Kind::GoCore);
    if let Some(r) = Summary::paired(rps.get(Subject::GoNative), rps.get(go), |n, g| n / g) {
        rows.push(
            Row::plain("P1", "go-core vs go-native", "ratio", r).with_overhead(Summary::paired(
                rps.get(go),
                rps.get(Subject::GoNative),
                |g, n| (1.0 / g - 1.0 / n) * 1e6,
            )),
        );
    }
    for &s in &subjects {
        if matches!(s, Subject::Guest(_) | Subject::Wasmtime | Subject::GoNative) {
            rows.push(Row::plain(
                "P1",
                &format!("{} peak RSS", s.name()),
                "MiB",
                rss.summary(s)?,
            ));
        }
    }
    Ok(rows)
}

/// The latest sample of every subject, for progress lines.
fn line(s: &Samples, subjects: &[Subject], run: usize, unit: &str) -> String {
    subjects
        .iter()
        .filter_map(|&sub| {
            let v = s.get(sub).get(run)?;
            Some(format!("{} {v:.1} {unit}", sub.name()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// P2: one large response read in chunks and discarded; throughput and peak RSS.
pub fn p2(ctx: &mut Ctx) -> Result<Vec<Row>, String> {
    let c = ctx.counts;
    let url = ctx.server.url(&format!("/bytes/{}", c.p2_bytes));
    let mut subjects = subjects(ctx, false);
    subjects.insert(2, Subject::FloorCopy);
    warm_up(ctx, &ctx.server.url("/bytes/1"))?;
    let (mut mbps, mut rss) = (Samples::default(), Samples::default());
    for run in 0..c.runs {
        for s in order(run, &subjects) {
            let secs = match s {
                Subject::Floor => {
                    let f = floor_child(&["bench", &url, "1"])?;
                    rss.push(s, mib(f.peak_rss_kib));
                    guest_ms(&f, 1, Some(c.p2_bytes))? / 1000.0
                }
                Subject::FloorInProcess => checked(s, ctx.floor.sequential(&url, 1)?, c.p2_bytes)?,
                Subject::FloorCopy => {
                    let f = floor_child(&["bench-copy", &url, "1"])?;
                    guest_ms(&f, 1, Some(c.p2_bytes))? / 1000.0
                }
                Subject::Native => checked(s, ctx.native.sequential(&url, 1)?, c.p2_bytes)?,
                Subject::Guest(k) => {
                    let f = guest(ctx, k, &["bench", &url, "1"])?;
                    rss.push(s, mib(f.peak_rss_kib));
                    guest_ms(&f, 1, Some(c.p2_bytes))? / 1000.0
                }
                Subject::GoNative => {
                    let f = go_native(ctx, &["bench", &url, "1"])?;
                    rss.push(s, mib(f.peak_rss_kib));
                    guest_ms(&f, 1, Some(c.p2_bytes))? / 1000.0
                }
                Subject::Wasmtime | Subject::WasiHttpNull => unreachable!("P1 subjects only"),
            };
            mbps.push(s, c.p2_bytes as f64 / 1e6 / secs);
        }
        ctx.log(format!(
            "P2 run {}/{}: {}",
            run + 1,
            c.runs,
            line(&mbps, &subjects, run, "MB/s")
        ));
    }
    let floor = mbps.get(Subject::Floor);
    let mut rows = vec![Row::plain(
        "P2",
        "floor",
        "MB/s",
        mbps.summary(Subject::Floor)?,
    )];
    for &s in &subjects[1..] {
        let ratio = Summary::paired(mbps.get(s), floor, |x, f| x / f);
        let mut row = Row::plain("P2", s.name(), "MB/s", mbps.summary(s)?)
            .with_ratio(ratio.clone(), "throughput ÷ floor");
        if !matches!(
            s,
            Subject::GoNative | Subject::FloorInProcess | Subject::FloorCopy
        ) {
            let pass = ratio.as_ref().is_some_and(|r| r.median >= 0.90);
            row = row.with_target("ratio ≥ 0.90".into(), pass);
        }
        rows.push(row);
    }
    // Peak RSS is only known for child processes: the floor and native share the bench
    // process with its server.
    for k in KINDS {
        let v = rss.summary(Subject::Guest(k))?;
        let pass = v.max <= 64.0;
        rows.push(
            Row::plain("P2", &format!("{} peak RSS", k.name()), "MiB", v)
                .with_target("max ≤ 64 MiB".into(), pass),
        );
    }
    rows.push(Row::plain(
        "P2",
        "floor peak RSS",
        "MiB",
        rss.summary(Subject::Floor)?,
    ));
    // The Go runtime's own share of go-core's memory.
    rows.push(Row::plain(
        "P2",
        "go-native peak RSS",
        "MiB",
        rss.summary(Subject::GoNative)?,
    ));
    Ok(rows)
}

/// The median wall time of `spawns` starts of `make()`, in ms.
fn median_start(spawns: usize, make: impl Fn() -> Command, what: &str) -> Result<f64, String> {
    let mut v = Vec::new();
    for _ in 0..spawns {
        v.push(ms(proc::run(make())?.check(what)?.wall));
    }
    Ok(Summary::of(&v).map_or(0.0, |s| s.median))
}

/// P3: wall time of `wasmgate run` for tiny guests: first run (compiling, fresh cache)
/// vs later runs (cached), and `/bin/true` as the floor.
pub fn p3(ctx: &mut Ctx) -> Result<(Vec<Row>, Vec<String>), String> {
    let c = ctx.counts;
    let hello = wasmgate_test_support::guest(wasmgate_test_support::Guest::Wasip1Hello);
    let component = ctx.wasm(Kind::Component);
    let no_cache = ctx.wasmgate.run_has_flag("--no-cache");
    let cache_dir_flag = ctx.wasmgate.run_has_flag("--cache-dir");
    let base = ctx.scratch.join("p3");
    let cases: [(&str, &Path, &[&str]); 2] = [
        ("wasip1-hello", &hello, &[]),
        ("component http-client env", &component, &["env"]),
    ];
    let start = |wasm: &Path, args: &[&str], home: &Path, extra: &[&str]| {
        let mut cmd = ctx.wasmgate.command(["run"]);
        if cache_dir_flag && extra.is_empty() {
            cmd.arg("--cache-dir").arg(home.join("wasmgate"));
        }
        cmd.args(extra)
            .arg(wasm)
            .args(args)
            .env("XDG_CACHE_HOME", home);
        cmd
    };
    let mut s: HashMap<String, Vec<f64>> = HashMap::new();
    let mut push = |k: &str, v: f64| s.entry(k.to_string()).or_default().push(v);
    for (name, wasm, args) in cases {
        // Warm the cached case once; its runs below all hit.
        let warm = base.join(format!("{name}-cached"));
        proc::run(start(wasm, args, &warm, &[]))?.check(name)?;
    }
    for run in 0..c.runs {
        push(
            "floor",
            median_start(c.p3_spawns, || Command::new("/bin/true"), "/bin/true")?,
        );
        for (name, wasm, args) in cases {
            let fresh = base.join(format!("{name}-first-{run}"));
            let first = proc::run(start(wasm, args, &fresh, &[]))?.check(name)?;
            push(&format!("{name} first"), ms(first.wall));
            let warm = base.join(format!("{name}-cached"));
            let cached = median_start(c.p3_spawns, || start(wasm, args, &warm, &[]), name)?;
            push(&format!("{name} cached"), cached);
            if no_cache {
                let home = base.join("unused");
                let t = median_start(
                    c.p3_spawns,
                    || start(wasm, args, &home, &["--no-cache"]),
                    name,
                )?;
                push(&format!("{name} --no-cache"), t);
            }
        }
        ctx.log(format!("P3 run {}/{} done", run + 1, c.runs));
    }
    let get = |k: &str| s.get(k).map_or(&[][..], Vec::as_slice);
    let floor = Summary::of(get("floor")).ok_or("no floor samples")?;
    let limit = 2.0 * floor.median + 5.0;
    let mut rows = vec![Row::plain(
        "P3",
        "floor: spawn /bin/true",
        "ms",
        floor.clone(),
    )];
    for (name, _, _) in cases {
        for case in ["first", "cached", "--no-cache"] {
            let key = format!("{name} {case}");
            let Some(v) = Summary::of(get(&key)) else {
                continue;
            };
            let ratio = Summary::paired(get(&key), get("floor"), |x, f| x / f);
            let mut row = Row::plain("P3", &key, "ms", v.clone()).with_ratio(ratio, "÷ floor");
            if case == "cached" {
                row = row.with_target(format!("≤ 2×floor+5 = {limit:.1} ms"), v.median <= limit);
            }
            rows.push(row);
        }
    }
    let mut notes = vec![format!(
        "P3: `first` = a fresh, empty cache home (XDG_CACHE_HOME{}) per run; `cached` = a home warmed by one earlier run; median of {} spawn(s) per run",
        if cache_dir_flag {
            " and --cache-dir"
        } else {
            ""
        },
        c.p3_spawns
    )];
    if !no_cache {
        notes.push(
            "P3: this wasmgate has no --no-cache flag (no compiled-code cache yet): `cached` runs compile too"
                .into(),
        );
    }
    Ok((rows, notes))
}

/// P5: N requests to `/slow/100` issued at once by one client, against one request.
/// Every subject is judged against its own single request; the floor's rows show what
/// the same batch costs without wasmgate.
pub fn p5(ctx: &mut Ctx) -> Result<Vec<Row>, String> {
    let c = ctx.counts;
    let url = ctx.server.url(&format!("/slow/{}", c.p5_delay_ms));
    let n = c.p5_requests;
    let n_arg = n.to_string();
    // Go's own concurrency is not what P5 is about.
    let subjects: Vec<Subject> = subjects(ctx, false)
        .into_iter()
        .filter(|&s| !matches!(s, Subject::GoNative | Subject::FloorInProcess))
        .collect();
    let (mut one, mut all) = (Samples::default(), Samples::default());
    for run in 0..c.runs {
        for s in order(run, &subjects) {
            let (t1, tn) = match s {
                Subject::Floor => (
                    ms(ctx.floor.sequential(&url, 1)?.elapsed),
                    ms(ctx.floor.concurrent(&url, n)?.elapsed),
                ),
                Subject::Native => (
                    ms(ctx.native.sequential(&url, 1)?.elapsed),
                    ms(ctx.native.concurrent(&url, n)?.elapsed),
                ),
                Subject::Guest(k) => {
                    let single = guest(ctx, k, &["bench", &url, "1"])?;
                    let command = match k {
                        Kind::Component => "bench-concurrent",
                        Kind::RustCore | Kind::GoCore => "concurrent",
                    };
                    let many = guest(ctx, k, &[command, &url, &n_arg])?;
                    (guest_ms(&single, 1, None)?, guest_ms(&many, n, None)?)
                }
                Subject::Wasmtime
                | Subject::GoNative
                | Subject::FloorInProcess
                | Subject::FloorCopy
                | Subject::WasiHttpNull => unreachable!("not a P5 subject"),
            };
            one.push(s, t1);
            all.push(s, tn);
        }
        ctx.log(format!(
            "P5 run {}/{}: {}",
            run + 1,
            c.runs,
            line(&all, &subjects, run, "ms")
        ));
    }
    let mut rows = Vec::new();
    for &s in &subjects {
        rows.push(Row::plain(
            "P5",
            &format!("{} 1 request", s.name()),
            "ms",
            one.summary(s)?,
        ));
        let ratio = Summary::paired(all.get(s), one.get(s), |a, b| a / b);
        let pass = ratio.as_ref().is_some_and(|r| r.median <= 1.3);
        rows.push(
            Row::plain(
                "P5",
                &format!("{} {n} concurrent", s.name()),
                "ms",
                all.summary(s)?,
            )
            .with_ratio(ratio, "÷ 1 request")
            .with_target("ratio ≤ 1.3".into(), pass),
        );
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::{order, p1_limit};
    use crate::{Kind, Subject};

    #[test]
    fn every_subject_takes_its_turn_first() {
        let all = [
            Subject::Floor,
            Subject::Native,
            Subject::Guest(Kind::Component),
            Subject::Wasmtime,
        ];
        let firsts: Vec<Subject> = (0..all.len()).map(|run| order(run, &all)[0]).collect();
        assert_eq!(firsts, all);
        assert_eq!(order(all.len(), &all), all);
    }

    #[test]
    fn p1_targets_from_the_issue() {
        assert_eq!(p1_limit(Subject::Floor), None);
        assert_eq!(p1_limit(Subject::Native), Some(1.1));
        assert_eq!(p1_limit(Subject::Guest(Kind::Component)), Some(1.5));
        assert_eq!(p1_limit(Subject::Guest(Kind::RustCore)), Some(1.3));
        assert_eq!(p1_limit(Subject::Guest(Kind::GoCore)), Some(2.0));
        assert_eq!(p1_limit(Subject::Wasmtime), None);
    }
}
