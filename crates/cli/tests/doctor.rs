//! `wasmgate doctor` end to end: exit codes, --json, --allow/--config, and the hint
//! `wasmgate run` prints when a guest fails to link or exits after a failure doctor
//! recognises. The reports themselves are golden-tested in crates/doctor.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::Ordering;
use wasmgate_test_support::TestServer;
use wasmgate_test_support::tinygo::{Target, tinygo_guest};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../doctor/tests/fixtures")
        .join(name)
}

/// The fixture compiled to a `.wasm` in a fresh temporary directory.
fn wasm(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmgate-cli-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = wat::parse_file(fixture(&format!("{name}.wat"))).unwrap();
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn wasmgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmgate"))
        .args(args)
        .output()
        .expect("run wasmgate")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn exit_code_is_1_on_an_error_and_0_otherwise() {
    let tinygo = wasm("tinygo-wasip1-netdev");
    let out = wasmgate(&["doctor", tinygo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let first = stdout.lines().next().unwrap();
    assert!(first.contains("1 error"), "{first}");
    assert!(stdout.contains("error[tinygo-netdev]"), "{stdout}");
    assert!(stdout.contains("wasmgate.Install()"), "{stdout}");

    let ok = wasm("component-wasi-0.2.0");
    let out = wasmgate(&[
        "doctor",
        "--allow",
        "https://api.example.com",
        ok.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn json_follows_the_schema() {
    let path = wasm("unknown-imports");
    let out = wasmgate(&["doctor", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["ok"], false);
    assert_eq!(v["module"]["kind"], "core-module");
    assert_eq!(v["findings"][0]["id"], "unknown-imports");
    assert_eq!(v["findings"][0]["severity"], "error");
}

#[test]
fn config_rules_are_checked_and_bad_input_has_its_own_codes() {
    let path = wasm("component-wasi-0.2.0");
    let dir = path.parent().unwrap();
    let config = dir.join("redis.toml");
    std::fs::write(&config, "allow = [\"redis://cache.example.com:6379\"]\n").unwrap();
    let out = wasmgate(&[
        "doctor",
        "--config",
        config.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("error[policy-denies-all]"), "{stdout}");
    assert!(stdout.contains("warning[rule-never-matches]"), "{stdout}");

    let out = wasmgate(&["doctor", "--allow", "not a rule", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    let out = wasmgate(&["doctor", "/nonexistent/app.wasm"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(text(&out.stderr).contains("cannot read /nonexistent/app.wasm"));

    let garbage = dir.join("garbage.wasm");
    std::fs::write(&garbage, b"\0asm\x01\0\0\0\x01\xff").unwrap();
    let out = wasmgate(&["doctor", garbage.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("error[malformed]"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn run_points_to_doctor_when_a_guest_cannot_link() {
    let path = wasm("component-wasi-0.3");
    let out = wasmgate(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let hint = stderr
        .lines()
        .find(|l| l.starts_with("hint: run `wasmgate doctor "))
        .unwrap_or_else(|| panic!("no hint in:\n{stderr}"));
    assert!(hint.contains("Imports WASI 0.3.0-rc-2025-09-16"), "{hint}");
}

#[test]
fn run_points_to_doctor_when_a_tinygo_guest_exits_with_an_error() {
    // The synthetic TinyGo module's `_start` returns normally; make one that exits 1
    // the way TinyGo does after printing `Netdev not set`.
    let wat = std::fs::read_to_string(fixture("tinygo-wasip1-netdev.wat"))
        .unwrap()
        .replace(
            "(func $_start (export \"_start\") (call $main))",
            "(func $_start (export \"_start\") (call $main) (call $proc_exit (i32.const 1)))",
        );
    let dir = wasm("reactor").parent().unwrap().to_path_buf();
    let path = dir.join("tinygo-exit1.wasm");
    std::fs::write(&path, wat::parse_str(&wat).unwrap()).unwrap();
    let out = wasmgate(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("hint: run `wasmgate doctor ")
            && stderr.contains("requests will fail with `Netdev not set`"),
        "{stderr}"
    );
}

#[test]
fn run_points_to_doctor_when_a_guest_traps_but_not_for_a_healthy_binary() {
    // The synthetic TinyGo module, made to trap after `main` as a Go panic would.
    let wat = std::fs::read_to_string(fixture("tinygo-wasip1-netdev.wat"))
        .unwrap()
        .replace(
            "(func $_start (export \"_start\") (call $main))",
            "(func $_start (export \"_start\") (call $main) unreachable)",
        );
    let dir = wasm("reactor").parent().unwrap().to_path_buf();
    let path = dir.join("tinygo-trap.wasm");
    std::fs::write(&path, wat::parse_str(&wat).unwrap()).unwrap();
    let out = wasmgate(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(134), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("hint: run `wasmgate doctor ")
            && stderr.contains("requests will fail with `Netdev not set`"),
        "{stderr}"
    );
    // A binary doctor finds nothing wrong with gets no hint, whether it traps or exits
    // non-zero for its own reasons.
    let hello = wasmgate_test_support::guest(wasmgate_test_support::Guest::Wasip1Hello);
    let hello = hello.to_str().unwrap();
    for (args, code) in [(&["trap"][..], 134), (&["exit", "3"][..], 3)] {
        let mut all = vec!["run", hello];
        all.extend_from_slice(args);
        let out = wasmgate(&all);
        assert_eq!(out.status.code(), Some(code));
        assert!(
            !text(&out.stderr).contains("hint:"),
            "{}",
            text(&out.stderr)
        );
    }
}

/// The seed failure built for real: `guest/go/testprograms/netdev` (plain net/http) by
/// TinyGo. Doctor names the wasip2 cure with the build contract of guest/go/README.md.
#[test]
fn doctor_gives_the_wasip2_build_command_for_a_real_tinygo_wasip2_build() {
    // None without TinyGo outside CI; the helper printed "skipped: no TinyGo".
    let Some(path) = tinygo_guest("netdev", Target::Wasip2) else {
        return;
    };
    let out = wasmgate(&["doctor", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("error[tinygo-netdev]"), "{stdout}");
    let fix = &stdout[stdout.find("  fix:").expect("a fix")..];
    for needle in [
        "wasmgate.Install()",
        "replace wasmgate.dev/guest/go => ",
        "tinygo build -target=wasip2 -wit-package ",
        "/guest/go/wit -wit-world client -o app.wasm .",
    ] {
        assert!(fix.contains(needle), "no {needle:?} in:\n{fix}");
    }
}

/// What a user sees running the real TinyGo netdev builds: TinyGo's own error, then
/// run's pointer to doctor; and the server never hears from the guest.
#[test]
fn run_on_real_tinygo_netdev_builds_shows_netdev_not_set_and_the_doctor_hint() {
    let server = TestServer::http();
    for target in [Target::Wasip1, Target::Wasip2] {
        let Some(path) = tinygo_guest("netdev", target) else {
            return;
        };
        let out = wasmgate(&[
            "run",
            "--allow",
            &server.base(),
            path.to_str().unwrap(),
            &server.url("/hello"),
        ]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{target:?}: {stderr}");
        assert!(stderr.contains("Netdev not set"), "{target:?}: {stderr}");
        let hint = stderr
            .lines()
            .find(|l| l.starts_with("hint: run `wasmgate doctor "))
            .unwrap_or_else(|| panic!("{target:?}: no hint in:\n{stderr}"));
        assert!(
            hint.contains("requests will fail with `Netdev not set`"),
            "{target:?}: {hint}"
        );
    }
    assert_eq!(server.stats().connections.load(Ordering::SeqCst), 0);
}
