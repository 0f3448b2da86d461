//! S1: `wasmgate serve` under load from `wrk`, and — with `--wasmtime` — `wasmtime serve`
//! with the same component in the same run, side by side. Three handlers of
//! `test-programs` `http-handler`: `/hello`, a streamed 64 KiB body, and one outbound GET
//! per request to the bench's local server. Figures: req/s, p50 and p99 latency; the
//! ratio to `wasmtime serve` when it ran (issue #9: ≥ 1.2× its req/s at equal or lower
//! p99).

use crate::serve_child::ServeChild;
use crate::stats::Summary;
use crate::wrk::{self, Wrk};
use crate::{Ctx, Row};
use std::collections::HashMap;

/// The figure's name (`--only S1`).
pub const FIGURE: &str = "S1";

/// Target of issue #9: wasmgate's req/s ÷ `wasmtime serve`'s.
const RPS_TARGET: f64 = 1.2;
/// Target of issue #9: wasmgate's p99 ÷ `wasmtime serve`'s ("equal or lower").
const P99_TARGET: f64 = 1.0;

/// Size of the streamed body: large enough that the body, not the request, dominates,
/// and several 64 KiB-or-smaller writes of the handler.
const STREAM_BYTES: u64 = 64 * 1024;
/// Body the upstream sends to `/fetch`, as in P1.
const FETCH_BODY: u64 = 1024;

/// A server under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Server {
    Wasmgate,
    Wasmtime,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Wasmgate => "wasmgate serve",
            Server::Wasmtime => "wasmtime serve",
        }
    }
}

/// One measured handler: a short name for the rows, and the path and query requested.
struct Handler {
    name: &'static str,
    path: String,
}

/// S1's rows, and notes (e.g. that it was skipped).
pub fn s1(ctx: &mut Ctx) -> Result<(Vec<Row>, Vec<String>), String> {
    let Some(wrk) = Wrk::find(&ctx.scratch)? else {
        if std::env::var_os("CI").is_some() {
            return Err(
                "S1: wrk not found in PATH; CI installs it with scripts/setup.sh (apt-get install wrk)"
                    .into(),
            );
        }
        let note = "S1 skipped: wrk not found (install it: apt-get install wrk)".to_string();
        ctx.log(&note);
        return Ok((Vec::new(), vec![note]));
    };
    let seconds = ctx.counts.s1_seconds;
    let upstream = ctx.server.base();
    let handlers = [
        Handler {
            name: "hello",
            path: "/hello".into(),
        },
        Handler {
            name: "stream 64 KiB",
            path: format!("/stream?bytes={STREAM_BYTES}"),
        },
        Handler {
            name: "fetch",
            path: format!(
                "/fetch?url={}",
                ctx.server.url(&format!("/bytes/{FETCH_BODY}"))
            ),
        },
    ];
    ctx.log("building the http-handler component (release)");
    let wasm = wasmgate_test_support::guest(wasmgate_test_support::Guest::HttpHandler);

    let mut servers = Vec::new();
    let mut cmd = ctx
        .wasmgate
        .command(["serve", "--addr", "127.0.0.1:0", "--allow"]);
    cmd.arg(&upstream)
        .arg(&wasm)
        .env("XDG_CACHE_HOME", ctx.scratch.join("cache"));
    ctx.log("S1: starting wasmgate serve");
    servers.push((Server::Wasmgate, ServeChild::start("wasmgate serve", cmd)?));
    if let Some(w) = &ctx.wasmtime {
        let mut cmd = w.serve_command(&wasm);
        // For a stand-in of the CLI (the smoke test's), which needs an allow rule; the
        // real `wasmtime serve` has no policy and ignores it.
        cmd.env("WASMGATE_BENCH_UPSTREAM", &upstream)
            .env("XDG_CACHE_HOME", ctx.scratch.join("cache"));
        ctx.log("S1: starting wasmtime serve");
        servers.push((Server::Wasmtime, ServeChild::start("wasmtime serve", cmd)?));
    }
    // Every handler answers 200 on every server before anything is timed.
    for (_, s) in &servers {
        for h in &handlers {
            s.check_get(&h.path)?;
        }
    }

    let mut loads: HashMap<(Server, usize), Vec<wrk::Load>> = HashMap::new();
    for run in 0..ctx.counts.runs {
        for (i, h) in handlers.iter().enumerate() {
            let mut order: Vec<usize> = (0..servers.len()).collect();
            order.rotate_left(run % servers.len());
            let mut line = Vec::new();
            for k in order {
                let (server, child) = &servers[k];
                let load = wrk.run(&child.url(&h.path), seconds)?;
                line.push(format!(
                    "{} {:.0} req/s p50 {:.0} µs p99 {:.0} µs",
                    server.name(),
                    load.rps,
                    load.p50_us,
                    load.p99_us
                ));
                loads.entry((*server, i)).or_default().push(load);
            }
            ctx.log(format!(
                "S1 run {}/{} {}: {}",
                run + 1,
                ctx.counts.runs,
                h.name,
                line.join(", ")
            ));
        }
    }
    let ran: Vec<Server> = servers.iter().map(|(s, _)| *s).collect();
    for (server, child) in servers {
        // wasmgate must drain and exit 0, as a deployment relies on; the peer is only
        // measured.
        child.stop(server == Server::Wasmgate)?;
    }
    Ok((rows(&handlers, &ran, &loads)?, Vec::new()))
}

fn rows(
    handlers: &[Handler],
    servers: &[Server],
    loads: &HashMap<(Server, usize), Vec<wrk::Load>>,
) -> Result<Vec<Row>, String> {
    let series = |s: Server, i: usize, f: fn(&wrk::Load) -> f64| -> Vec<f64> {
        loads
            .get(&(s, i))
            .map_or(Vec::new(), |l| l.iter().map(f).collect())
    };
    let summary =
        |v: &[f64], what: &str| Summary::of(v).ok_or_else(|| format!("S1: no samples for {what}"));
    let mut rows = Vec::new();
    for (i, h) in handlers.iter().enumerate() {
        let peer_rps = series(Server::Wasmtime, i, |l| l.rps);
        let peer_p99 = series(Server::Wasmtime, i, |l| l.p99_us);
        for &s in servers {
            let subject = format!("{} {}", s.name(), h.name);
            let rps = series(s, i, |l| l.rps);
            let p50 = series(s, i, |l| l.p50_us);
            let p99 = series(s, i, |l| l.p99_us);
            let mut rps_row = Row::plain(FIGURE, &subject, "req/s", summary(&rps, &subject)?);
            let mut p99_row = Row::plain(
                FIGURE,
                &format!("{subject} p99"),
                "µs",
                summary(&p99, &subject)?,
            );
            if s == Server::Wasmgate && !peer_rps.is_empty() {
                let r = Summary::paired(&rps, &peer_rps, |a, b| a / b);
                let pass = r.as_ref().is_some_and(|r| r.median >= RPS_TARGET);
                rps_row = rps_row
                    .with_ratio(r, "req/s ÷ wasmtime serve")
                    .with_target(format!("ratio ≥ {RPS_TARGET:.1}"), pass);
                let r = Summary::paired(&p99, &peer_p99, |a, b| a / b);
                let pass = r.as_ref().is_some_and(|r| r.median <= P99_TARGET);
                p99_row = p99_row
                    .with_ratio(r, "p99 ÷ wasmtime serve")
                    .with_target(format!("ratio ≤ {P99_TARGET:.1}"), pass);
            }
            rows.push(rps_row);
            rows.push(Row::plain(
                FIGURE,
                &format!("{subject} p50"),
                "µs",
                summary(&p50, &subject)?,
            ));
            rows.push(p99_row);
        }
    }
    Ok(rows)
}
