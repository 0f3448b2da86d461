//! The benchmark keeps building and working: `wasmgate-bench --smoke --json` (tiny
//! counts) reports every figure with positive numbers, unpinned and with `--pin`, and
//! a wrong `--wasmtime` is a clear error. S1 (`wasmgate serve` under wrk) is covered when
//! wrk is installed, as CI does; without it S1 is skipped with a note, an error under CI.
//! Timings are not asserted.
//!
//! The runs are made one after the other in a single test: two benches at once would
//! only slow each other down on a 2-core CI machine.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BENCH: &str = env!("CARGO_BIN_EXE_wasmgate-bench");

/// `wasmgate-bench --smoke --json --quiet --wasmgate self EXTRA…`.
fn bench(extra: &[&str]) -> Output {
    Command::new(BENCH)
        // `self`: this test must not run cargo (it holds the build lock) to build
        // target/release/wasmgate; the bench binary acts as wasmgate instead.
        .args(["--smoke", "--json", "--quiet", "--wasmgate", "self"])
        .args(extra)
        .output()
        .expect("run wasmgate-bench")
}

/// The JSON report of a successful run, with every row's numbers checked.
fn report(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench failed:\n{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["smoke"], true);
    let rows = report["rows"].as_array().expect("rows");
    check_s1(&report);
    for figure in ["P1", "P2", "P3", "P5"] {
        assert!(
            rows.iter().any(|r| r["figure"] == figure),
            "no {figure} rows in {stdout}"
        );
    }
    for row in rows {
        let value = &row["value"];
        for key in ["median", "min", "max"] {
            let v = value[key].as_f64().unwrap_or(0.0);
            assert!(v > 0.0, "{key} of {row} is not positive");
        }
        if let Some(ratio) = row["ratio"].as_object() {
            let median = ratio["median"].as_f64().unwrap_or(0.0);
            assert!(median > 0.0, "ratio of {row} is not positive");
        }
        if row["target"].is_string() {
            assert!(row["pass"].is_boolean(), "{row} has a target but no result");
        }
    }
    // The floor and every other subject are measured in P1 and P2; the others are
    // relative to the floor, and P1 gives their overhead per request.
    let both = [
        "floor",
        "floor in-process",
        "native",
        "component",
        "rust-core",
        "go-core",
        "go-native",
    ];
    let (p1_only, p2_only) = (["wasi-http null"], ["floor copying"]);
    for subject in both.into_iter().chain(p1_only).chain(p2_only) {
        let figures: &[&str] = if p1_only.contains(&subject) {
            &["P1"]
        } else if p2_only.contains(&subject) {
            &["P2"]
        } else {
            &["P1", "P2"]
        };
        for &figure in figures {
            let row = rows
                .iter()
                .find(|r| r["figure"] == figure && r["subject"] == subject)
                .unwrap_or_else(|| panic!("no {figure} row for {subject}"));
            if subject != "floor" {
                assert!(
                    row["ratio_of"]
                        .as_str()
                        .is_some_and(|o| o.ends_with("floor")),
                    "{row} is not relative to the floor"
                );
            }
            if figure == "P1" && subject != "floor" {
                assert!(row["overhead_us"]["median"].is_number(), "{row}: overhead");
            }
        }
    }
    for prefix in ["floor", "native"] {
        assert!(
            rows.iter()
                .any(|r| r["figure"] == "P5"
                    && r["subject"].as_str().unwrap_or("").starts_with(prefix)),
            "no P5 row for {prefix}"
        );
    }
    report
}

/// Whether wrk is installed (CI installs it with scripts/setup.sh).
fn have_wrk() -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|d| d.join("wrk").is_file())
}

/// The S1 handlers' row names (`serve_bench.rs`).
const S1_HANDLERS: [&str; 3] = ["hello", "stream 64 KiB", "fetch"];

/// S1 has req/s, p50 and p99 rows for every handler under `wasmgate serve` (and under
/// `wasmtime serve` when `--wasmtime` was given, with wasmgate's ratios to it); without
/// wrk, a note says it was skipped.
fn check_s1(report: &Value) {
    let rows = report["rows"].as_array().expect("rows");
    let notes = report["notes"].as_array().expect("notes");
    if !have_wrk() {
        assert!(std::env::var_os("CI").is_none(), "CI must install wrk");
        assert!(
            notes.iter().any(|n| n
                .as_str()
                .is_some_and(|n| n.contains("S1 skipped: wrk not found"))),
            "no skip note: {notes:?}"
        );
        return;
    }
    let peer = report["wasmtime"].is_string();
    let servers: &[&str] = if peer {
        &["wasmgate serve", "wasmtime serve"]
    } else {
        &["wasmgate serve"]
    };
    for server in servers {
        for handler in S1_HANDLERS {
            for (suffix, unit) in [("", "req/s"), (" p50", "µs"), (" p99", "µs")] {
                let subject = format!("{server} {handler}{suffix}");
                let row = rows
                    .iter()
                    .find(|r| r["figure"] == "S1" && r["subject"] == subject.as_str())
                    .unwrap_or_else(|| panic!("no S1 row {subject:?} in {rows:?}"));
                assert_eq!(row["unit"], unit, "{row}");
                let compared = peer && *server == "wasmgate serve" && suffix != " p50";
                assert_eq!(row["ratio"].is_object(), compared, "{row}");
                assert_eq!(row["target"].is_string(), compared, "{row}");
                if compared {
                    assert!(
                        row["ratio_of"]
                            .as_str()
                            .is_some_and(|o| o.ends_with("÷ wasmtime serve")),
                        "{row}"
                    );
                }
            }
        }
    }
}

/// A stand-in for Wasmtime's CLI, so the `wasmtime` rows' code paths run without one:
/// it answers `--version`, turns `run -S http GUEST CMD URL N` into this bench binary
/// acting as wasmgate with the URL's origin allowed, and `serve -S cli --addr A GUEST`
/// into `wasmgate serve` with the bench's upstream (`WASMGATE_BENCH_UPSTREAM`) allowed.
fn fake_wasmtime(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("fake-wasmtime");
    let script = format!(
        r#"#!/bin/sh
if [ "$1" = "--version" ]; then echo "wasmtime-cli 0.0.0 (fake)"; exit 0; fi
if [ "$1 $2 $3 $4" = "serve -S cli --addr" ]; then
    WASMGATE_BENCH_AS_WASMGATE=1 exec '{BENCH}' serve --allow "$WASMGATE_BENCH_UPSTREAM" --addr "$5" "$6"
fi
[ "$1 $2 $3" = "run -S http" ] || {{ echo "fake wasmtime: unexpected: $*" >&2; exit 2; }}
shift 3
origin=$(printf '%s\n' "$3" | sed 's#^\(http://[^/]*\).*#\1#')
WASMGATE_BENCH_AS_WASMGATE=1 exec '{BENCH}' run --allow "$origin" "$@"
"#
    );
    std::fs::create_dir_all(dir).expect("tmp dir");
    std::fs::write(&path, script).expect("write fake wasmtime");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

#[test]
fn smoke_runs_unpinned_and_pinned() {
    let plain = report(&bench(&[]));
    assert_eq!(plain["pinned"], false);
    assert!(plain["pinned_cpu"].is_null());
    assert!(
        !plain["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .any(|r| r["subject"] == "wasmtime"),
        "a wasmtime row without --wasmtime"
    );

    // Pinned, with the wasmtime row (through the stand-in) measured too.
    let fake = fake_wasmtime(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-smoke"));
    let fake = fake.to_str().expect("UTF-8 path");
    // One run is enough to see every row; it keeps the test short.
    let pinned = report(&bench(&["--pin", "--runs", "1", "--wasmtime", fake]));
    assert_eq!(pinned["pinned"], true);
    assert!(pinned["pinned_cpu"].is_u64(), "{}", pinned["pinned_cpu"]);
    assert!(
        pinned["wasmtime"]
            .as_str()
            .is_some_and(|w| w.contains("fake")),
        "{}",
        pinned["wasmtime"]
    );
    let rows = pinned["rows"].as_array().expect("rows");
    let row = rows
        .iter()
        .find(|r| r["figure"] == "P1" && r["subject"] == "wasmtime")
        .expect("a P1 wasmtime row");
    assert!(
        row["ratio_of"]
            .as_str()
            .is_some_and(|o| o.ends_with("floor"))
    );
    assert!(row["target"].is_null(), "wasmtime has no target: {row}");
}

/// `--only S1` with no wrk in `PATH`: skipped with a note outside CI, an error naming
/// wrk and how CI installs it under CI. (Nothing is built: wrk is looked for first.)
#[test]
fn s1_without_wrk_is_skipped_outside_ci_and_an_error_in_ci() {
    let empty = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-no-wrk");
    std::fs::create_dir_all(&empty).expect("tmp dir");
    let run = |ci: bool| {
        let mut cmd = Command::new(BENCH);
        cmd.args(["--smoke", "--json", "--quiet", "--wasmgate", "self"])
            .args(["--only", "S1"])
            .env("PATH", &empty)
            .env_remove("CI");
        if ci {
            cmd.env("CI", "true");
        }
        cmd.output().expect("run wasmgate-bench")
    };
    let out = run(false);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["rows"].as_array().map(Vec::len), Some(0), "{stdout}");
    assert!(
        report["notes"][0].as_str().is_some_and(
            |n| n.contains("S1 skipped: wrk not found") && n.contains("apt-get install wrk")
        ),
        "{stdout}"
    );

    let out = run(true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "succeeded in CI without wrk: {stderr}"
    );
    assert!(
        stderr.contains("wrk not found") && stderr.contains("scripts/setup.sh"),
        "unclear error: {stderr}"
    );
}

#[test]
fn missing_wasmtime_is_a_clear_error() {
    let out = bench(&["--only", "P1", "--wasmtime", "/nonexistent/wasmtime"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "succeeded without wasmtime: {stderr}"
    );
    assert!(
        stderr.contains("/nonexistent/wasmtime") && stderr.contains("does not exist"),
        "unclear error: {stderr}"
    );
}
