//! The benchmark keeps building and working: `wasmgate-bench --smoke --json` (tiny
//! counts) reports every figure with positive numbers. Timings are not asserted.

use std::process::Command;

#[test]
fn smoke_run_reports_every_figure() {
    let out = Command::new(env!("CARGO_BIN_EXE_wasmgate-bench"))
        // `self`: this test must not run cargo (it holds the build lock) to build
        // target/release/wasmgate; the bench binary acts as wasmgate instead.
        .args(["--smoke", "--json", "--quiet", "--wasmgate", "self"])
        .output()
        .expect("run wasmgate-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench failed:\n{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["smoke"], true);
    let rows = report["rows"].as_array().expect("rows");
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
    // Every guest kind is measured in P1 and P2.
    for kind in ["native", "component", "rust-core", "go-core"] {
        for figure in ["P1", "P2"] {
            assert!(
                rows.iter()
                    .any(|r| r["figure"] == figure && r["subject"] == kind),
                "no {figure} row for {kind}"
            );
        }
    }
}
