//! Golden-file tests: each case is an input binary (a WAT fixture, or a guest built from
//! source here) and its expected human and JSON reports in `tests/golden/CASE.txt|.json`.
//! `UPDATE_GOLDEN=1 cargo test -p wasmgate-doctor` rewrites them.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use support::{all_cases, check_golden};
use wasmgate_doctor::{Context, Severity, diagnose};

#[test]
fn golden_reports() {
    let mut failures = Vec::new();
    for case in all_cases() {
        if let Err(e) = check_golden(&case) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Findings that describe every file rather than diagnose one.
const DESCRIPTIVE: &[&str] = &["kind", "toolchain", "no-rules"];

/// Each diagnosis and the only cases it may fire on.
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "tinygo-netdev",
        &[
            "tinygo-wasip1-netdev",
            "tinygo-wasip2-netdev",
            "tinygo-wasip1-real-netdev",
            "tinygo-wasip2-real-netdev",
            "tinygo-wasip1-real-netdev-stripped",
            "tinygo-wasip2-real-netdev-stripped",
            "policy-rules-unused",
        ],
    ),
    ("go-wasip1-net-http", &["go-wasip1-nethttp"]),
    ("wasi-version-unsupported", &["component-wasi-0.3"]),
    ("wasi-version-newer", &["component-wasi-0.2.13"]),
    (
        "unknown-imports",
        &["unknown-imports", "component-unknown-imports"],
    ),
    (
        "wasi-sockets",
        &["component-sockets-only", "tinygo-wasip2-netdev"],
    ),
    (
        "malloc-export",
        &[
            "abi-malloc-workaround",
            "tinygo-wasip1-netdev",
            "tinygo-wasip1-real-netdev",
            "tinygo-wasip1-real-netdev-stripped",
            "tinygo-wasip1-real-transport",
            "policy-rules-unused",
        ],
    ),
    ("no-start", &["reactor"]),
    ("not-a-command", &["component-proxy"]),
    ("invalid-binary", &["invalid"]),
    ("rule-never-matches", &["policy-redis-only"]),
    (
        "policy-denies-all",
        &["policy-redis-only", "policy-empty-config"],
    ),
    ("allows-everything", &["policy-allow-all"]),
    ("rules-unused", &["policy-rules-unused"]),
    ("not-wasm", &["not-wasm"]),
    ("malformed", &["truncated"]),
];

#[test]
fn each_diagnosis_fires_on_its_fixtures_only() {
    let mut fired: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    // Cases built by a compiler that is missing here (TinyGo outside CI) are left out.
    let present: BTreeSet<String> = all_cases().into_iter().map(|c| c.name).collect();
    for case in all_cases() {
        let report = diagnose(&case.bytes, &case.ctx);
        for f in &report.findings {
            fired.entry(f.id).or_default().insert(case.name.clone());
        }
    }
    for (id, cases) in &fired {
        if DESCRIPTIVE.contains(id) {
            continue;
        }
        let Some((_, expected)) = EXPECTED.iter().find(|(e, _)| e == id) else {
            panic!("finding {id} has no entry in EXPECTED (fired on {cases:?})");
        };
        let expected: BTreeSet<String> = expected
            .iter()
            .map(|s| s.to_string())
            .filter(|s| present.contains(s))
            .collect();
        assert_eq!(
            cases, &expected,
            "finding {id} fired on other cases than expected"
        );
    }
    for (id, _) in EXPECTED {
        assert!(fired.contains_key(id), "finding {id} fired on no fixture");
    }
}

#[test]
fn example_guests_report_no_error() {
    for case in all_cases().into_iter().filter(|c| c.example) {
        let report = diagnose(&case.bytes, &case.ctx);
        let errors: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.id)
            .collect();
        assert!(errors.is_empty(), "{}: errors {errors:?}", case.name);
    }
}

/// The real TinyGo builds with wasmgate's transport are seen as reaching the network
/// the way each target does (no `tinygo-netdev` even though net/http links TinyGo's
/// netdev `net`); the stripped netdev builds are still diagnosed.
#[test]
fn real_tinygo_builds_are_recognised() {
    let expectations: &[(&str, &[&str])] = &[
        (
            "tinygo-wasip1-real-transport",
            &["wasmgate-abi", "go-net-http", "wasmgate-go-transport"],
        ),
        (
            "tinygo-wasip2-real-transport",
            &["wasi-http", "go-net-http", "wasmgate-go-transport"],
        ),
        ("tinygo-wasip1-real-netdev-stripped", &["tinygo-netdev"]),
        ("tinygo-wasip2-real-netdev-stripped", &["tinygo-netdev"]),
    ];
    let cases = all_cases();
    for (name, stacks) in expectations {
        // Absent without TinyGo outside CI (the build helper printed the skip).
        let Some(case) = cases.iter().find(|c| c.name == *name) else {
            continue;
        };
        let report = diagnose(&case.bytes, &case.ctx);
        let json: serde_json::Value = serde_json::from_str(&report.json("x.wasm")).unwrap();
        assert!(
            json["module"]["toolchain"]
                .as_str()
                .is_some_and(|t| t.starts_with("TinyGo")),
            "{name}: {}",
            json["module"]
        );
        for stack in *stacks {
            assert!(
                json["module"]["network"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s == stack),
                "{name}: no {stack} in {}",
                json["module"]["network"]
            );
        }
    }
}

#[test]
fn huge_input_is_refused_before_reading() {
    let dir = std::env::temp_dir().join(format!("wasmgate-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.wasm");
    let file = std::fs::File::create(&path).unwrap();
    // Sparse: no disk space is used.
    file.set_len(wasmgate_doctor::MAX_INPUT_BYTES + 1).unwrap();
    let report = wasmgate_doctor::diagnose_file(&path, &Context::default()).unwrap();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].id, "too-large");
    assert!(!report.ok());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn garbage_never_panics() {
    let base = wat::parse_file(support::fixture("tinygo-wasip1-netdev.wat")).unwrap();
    // Every prefix and a byte flipped at many offsets: a report, never a panic.
    for len in (0..base.len()).step_by(7) {
        let _ = diagnose(&base[..len], &Context::default());
    }
    for i in (8..base.len()).step_by(5) {
        let mut b = base.clone();
        b[i] ^= 0xff;
        let _ = diagnose(&b, &Context::default()).human("x.wasm");
    }
}
