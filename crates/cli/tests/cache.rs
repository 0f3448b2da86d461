//! The compiled-code cache as a user meets it: on by default in the user's cache
//! directory, `--no-cache` to bypass, a damaged entry never breaks a run, and a slow
//! first compile says what is happening.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use wasmgate_test_support::{Guest, guest};

fn run(cache_home: &Path, extra: &[&str], wasm: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmgate"))
        .arg("run")
        .args(extra)
        .arg(wasm)
        .args(args)
        .env("XDG_CACHE_HOME", cache_home)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run wasmgate")
}

fn entries(cache_home: &Path) -> Vec<PathBuf> {
    let root = cache_home.join("wasmgate");
    let mut out = Vec::new();
    for sub in std::fs::read_dir(root).into_iter().flatten().flatten() {
        for e in std::fs::read_dir(sub.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            out.push(e.path());
        }
    }
    out
}

fn fresh(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cache-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn cached_by_default_bypassed_with_no_cache() {
    let home = fresh("default");
    let wasm = guest(Guest::Wasip1Hello);
    let out = run(&home, &["--no-cache"], &wasm, &["exit", "3"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(entries(&home).is_empty(), "--no-cache wrote an entry");
    for _ in 0..2 {
        let out = run(&home, &[], &wasm, &["exit", "4"]);
        assert_eq!(out.status.code(), Some(4));
        assert_eq!(entries(&home).len(), 1);
    }
}

#[test]
fn a_damaged_entry_is_recompiled_and_the_run_is_correct() {
    let home = fresh("damaged");
    let wasm = guest(Guest::Wasip1Hello);
    assert_eq!(
        run(&home, &[], &wasm, &["exit", "5"]).status.code(),
        Some(5)
    );
    let entry = entries(&home).pop().expect("an entry");
    let good = std::fs::read(&entry).unwrap();
    let mut bad = good.clone();
    let at = bad.len() / 2;
    bad[at] ^= 0xff;
    for damaged in [bad, good[..good.len() / 3].to_vec(), Vec::new()] {
        std::fs::write(&entry, &damaged).unwrap();
        let out = run(&home, &[], &wasm, &["exit", "6"]);
        assert_eq!(
            out.status.code(),
            Some(6),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read(&entry).unwrap(),
            good,
            "the entry was rewritten"
        );
    }
}

#[test]
fn an_unusable_cache_directory_does_not_stop_a_run() {
    // XDG_CACHE_HOME points into /proc, where nothing can be created (not even by root).
    let out = run(
        Path::new("/proc/wasmgate-no-cache"),
        &[],
        &guest(Guest::Wasip1Hello),
        &["exit", "7"],
    );
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_slow_first_compile_is_announced() {
    // The Go guest takes seconds to compile; a cached run does not announce anything.
    let home = fresh("slow");
    let wasm = wasmgate_test_support::go::go_guest("httpclient");
    let out = run(&home, &[], &wasm, &["get", "http://127.0.0.1:9/"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let notice = stderr
        .lines()
        .find(|l| l.starts_with("wasmgate: compiling "))
        .unwrap_or_else(|| panic!("no compile notice: {stderr}"));
    assert!(
        notice.contains("httpclient.wasm; later runs load it from the cache"),
        "{notice}"
    );
    let out = run(&home, &[], &wasm, &["get", "http://127.0.0.1:9/"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("compiling"), "{stderr}");
}
