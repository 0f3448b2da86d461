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

#[test]
fn an_unwritable_cache_promises_nothing_about_later_runs() {
    let wasm = wasmgate_test_support::go::go_guest("httpclient");
    let out = run(
        Path::new("/proc/wasmgate-no-cache"),
        &[],
        &wasm,
        &["get", "http://127.0.0.1:9/"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let notice = stderr
        .lines()
        .find(|l| l.starts_with("wasmgate: compiling "))
        .unwrap_or_else(|| panic!("no compile notice: {stderr}"));
    assert!(!notice.contains("cache"), "{notice}");
}

fn cache_cmd(cache_home: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wasmgate"))
        .arg("cache")
        .args(args)
        .env("XDG_CACHE_HOME", cache_home)
        .output()
        .expect("run wasmgate cache");
    assert!(
        out.status.success(),
        "wasmgate cache {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn cache_list_and_clear() {
    let home = fresh("list");
    assert_eq!(
        cache_cmd(&home, &["dir"]).trim(),
        home.join("wasmgate").display().to_string()
    );
    let listed = cache_cmd(&home, &["list"]);
    assert!(listed.starts_with("0 entries, 0 B in "), "{listed}");
    let wasm = guest(Guest::Wasip1Hello);
    assert_eq!(
        run(&home, &[], &wasm, &["exit", "0"]).status.code(),
        Some(0)
    );
    let listed = cache_cmd(&home, &["list"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    let key = entries(&home)[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(lines[0].ends_with(&key[..16]), "{listed}");
    assert!(lines[1].starts_with("1 entry, "), "{listed}");

    let cleared = cache_cmd(&home, &["clear"]);
    assert!(cleared.starts_with("removed 1 entry ("), "{cleared}");
    assert!(entries(&home).is_empty());
    let cleared = cache_cmd(&home, &["clear"]);
    assert!(cleared.starts_with("removed 0 entries (0 B)"), "{cleared}");
}

#[test]
fn the_cache_stays_under_its_size_limit() {
    let home = fresh("limit");
    let small = guest(Guest::Wasip1Hello);
    let other = guest(Guest::HttpClient);
    assert_eq!(
        run(&home, &[], &small, &["exit", "0"]).status.code(),
        Some(0)
    );
    let first = entries(&home);
    let small_size = std::fs::metadata(&first[0]).unwrap().len();
    // Room for the component's entry but not for both: storing it evicts the older one.
    let out = run(&home, &[], &other, &[]);
    assert!(out.status.code().is_some());
    let both: u64 = entries(&home)
        .iter()
        .map(|e| std::fs::metadata(e).unwrap().len())
        .sum();
    assert_eq!(entries(&home).len(), 2);
    let _ = cache_cmd(&home, &["clear"]);
    assert_eq!(
        run(&home, &[], &small, &["exit", "0"]).status.code(),
        Some(0)
    );
    let limit = (both - small_size + small_size / 2).to_string();
    let out = run(&home, &["--cache-max-size", &limit], &other, &[]);
    assert!(out.status.code().is_some());
    let left = entries(&home);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_ne!(left[0], first[0], "the older entry was evicted");
    // A limit below one entry's size: nothing is stored, the run still works.
    let _ = cache_cmd(&home, &["clear"]);
    let out = run(&home, &["--cache-max-size", "1KiB"], &small, &["exit", "3"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(entries(&home).is_empty());
    // Bad values are usage errors that quote the input.
    let out = run(&home, &["--cache-max-size", "-1"], &small, &[]);
    assert_eq!(out.status.code(), Some(125));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--cache-max-size: invalid size \"-1\""),
        "{stderr}"
    );
}
