//! The figures. Every run measures every subject (rotating who goes first), so ratios
//! pair figures taken moments apart on the same machine.

use crate::proc::{self, Finished};
use crate::stats::Summary;
use crate::{Ctx, KINDS, Kind, Row};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Native (`None`) or a guest kind.
type Subject = Option<Kind>;

/// Native first in run 0, then rotated one place per run.
fn order(run: usize) -> Vec<Subject> {
    let mut all: Vec<Subject> = std::iter::once(None).chain(KINDS.map(Some)).collect();
    let len = all.len();
    all.rotate_left(run % len);
    all
}

fn name(s: Subject) -> &'static str {
    s.map_or("native", Kind::name)
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
        Summary::of(self.get(s)).ok_or_else(|| format!("no samples for {}", name(s)))
    }
}

/// P1: sequential GETs of a small body over one kept-alive connection.
pub fn p1(ctx: &mut Ctx) -> Result<Vec<Row>, String> {
    let c = ctx.counts;
    let url = ctx.server.url(&format!("/bytes/{}", c.p1_body));
    let n = c.p1_requests;
    let (total, n_arg) = (n * c.p1_body, n.to_string());
    let (mut rps, mut rss) = (Samples::default(), Samples::default());
    for run in 0..c.runs {
        for s in order(run) {
            let secs = match s {
                None => {
                    let t = ctx.native.sequential(&url, n)?;
                    if t.bytes != total {
                        return Err(format!("native read {} bytes, not {total}", t.bytes));
                    }
                    t.elapsed.as_secs_f64()
                }
                Some(k) => {
                    let f = guest(ctx, k, &["bench", &url, &n_arg])?;
                    rss.push(s, mib(f.peak_rss_kib));
                    guest_ms(&f, n, Some(total))? / 1000.0
                }
            };
            rps.push(s, n as f64 / secs);
        }
        ctx.log(format!(
            "P1 run {}/{}: {}",
            run + 1,
            c.runs,
            line(&rps, run, "req/s")
        ));
    }
    let mut rows = vec![Row::plain("P1", "native", "req/s", rps.summary(None)?)];
    for k in KINDS {
        let ratio = Summary::paired(rps.get(None), rps.get(Some(k)), |nat, g| nat / g);
        let pass = ratio.as_ref().is_some_and(|r| r.median <= 1.05);
        rows.push(
            Row::plain("P1", k.name(), "req/s", rps.summary(Some(k))?)
                .with_ratio(ratio, "time/request ÷ native")
                .with_target("ratio ≤ 1.05".into(), pass),
        );
    }
    for k in KINDS {
        rows.push(Row::plain(
            "P1",
            &format!("{} peak RSS", k.name()),
            "MiB",
            rss.summary(Some(k))?,
        ));
    }
    Ok(rows)
}

/// The latest sample of every subject, for progress lines.
fn line(s: &Samples, run: usize, unit: &str) -> String {
    order(0)
        .into_iter()
        .filter_map(|sub| {
            let v = s.get(sub).get(run)?;
            Some(format!("{} {v:.1} {unit}", name(sub)))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// P2: one large response read in chunks and discarded; throughput and peak RSS.
pub fn p2(ctx: &mut Ctx) -> Result<Vec<Row>, String> {
    let c = ctx.counts;
    let url = ctx.server.url(&format!("/bytes/{}", c.p2_bytes));
    let (mut mbps, mut rss) = (Samples::default(), Samples::default());
    for run in 0..c.runs {
        for s in order(run) {
            let secs = match s {
                None => {
                    let t = ctx.native.sequential(&url, 1)?;
                    if t.bytes != c.p2_bytes {
                        return Err(format!("native read {} bytes, not {}", t.bytes, c.p2_bytes));
                    }
                    t.elapsed.as_secs_f64()
                }
                Some(k) => {
                    let f = guest(ctx, k, &["bench", &url, "1"])?;
                    rss.push(s, mib(f.peak_rss_kib));
                    guest_ms(&f, 1, Some(c.p2_bytes))? / 1000.0
                }
            };
            mbps.push(s, c.p2_bytes as f64 / 1e6 / secs);
        }
        ctx.log(format!(
            "P2 run {}/{}: {}",
            run + 1,
            c.runs,
            line(&mbps, run, "MB/s")
        ));
    }
    let mut rows = vec![Row::plain("P2", "native", "MB/s", mbps.summary(None)?)];
    for k in KINDS {
        let ratio = Summary::paired(mbps.get(Some(k)), mbps.get(None), |g, nat| g / nat);
        let pass = ratio.as_ref().is_some_and(|r| r.median >= 0.90);
        rows.push(
            Row::plain("P2", k.name(), "MB/s", mbps.summary(Some(k))?)
                .with_ratio(ratio, "throughput ÷ native")
                .with_target("ratio ≥ 0.90".into(), pass),
        );
    }
    for k in KINDS {
        let v = rss.summary(Some(k))?;
        let pass = v.max <= 64.0;
        rows.push(
            Row::plain("P2", &format!("{} peak RSS", k.name()), "MiB", v)
                .with_target("max ≤ 64 MiB".into(), pass),
        );
    }
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

/// P5: N requests to `/slow/100` issued at once by one guest, against one request.
pub fn p5(ctx: &mut Ctx) -> Result<Vec<Row>, String> {
    let c = ctx.counts;
    let url = ctx.server.url(&format!("/slow/{}", c.p5_delay_ms));
    let n = c.p5_requests;
    let n_arg = n.to_string();
    let (mut one, mut all) = (Samples::default(), Samples::default());
    for run in 0..c.runs {
        for s in order(run) {
            let (t1, tn) = match s {
                None => (
                    ms(ctx.native.sequential(&url, 1)?.elapsed),
                    ms(ctx.native.concurrent(&url, n)?.elapsed),
                ),
                Some(k) => {
                    let single = guest(ctx, k, &["bench", &url, "1"])?;
                    let command = match k {
                        Kind::Component => "bench-concurrent",
                        Kind::RustCore | Kind::GoCore => "concurrent",
                    };
                    let many = guest(ctx, k, &[command, &url, &n_arg])?;
                    (guest_ms(&single, 1, None)?, guest_ms(&many, n, None)?)
                }
            };
            one.push(s, t1);
            all.push(s, tn);
        }
        ctx.log(format!(
            "P5 run {}/{}: {}",
            run + 1,
            c.runs,
            line(&all, run, "ms")
        ));
    }
    let mut rows = Vec::new();
    for s in order(0) {
        rows.push(Row::plain(
            "P5",
            &format!("{} 1 request", name(s)),
            "ms",
            one.summary(s)?,
        ));
        let ratio = Summary::paired(all.get(s), one.get(s), |a, b| a / b);
        let pass = ratio.as_ref().is_some_and(|r| r.median <= 1.3);
        rows.push(
            Row::plain(
                "P5",
                &format!("{} {n} concurrent", name(s)),
                "ms",
                all.summary(s)?,
            )
            .with_ratio(ratio, "÷ 1 request")
            .with_target("ratio ≤ 1.3".into(), pass),
        );
    }
    Ok(rows)
}
