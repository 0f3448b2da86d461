//! Builds the examples of the Rust guest crate `guest/rust` (`wasmgate-guest`, its
//! examples double as test programs) for `wasm32-wasip1` or `wasm32-wasip2`, once per
//! test process per (example, target).

use crate::guests::repo_root;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The Rust guest crate, `guest/rust`.
pub fn rust_guest_dir() -> PathBuf {
    repo_root().join("guest/rust")
}

/// Path of `guest/rust/examples/<example>.rs` built with
/// `cargo build --release --example <example> --target <target>` in `guest/rust`, with
/// `CARGO_TARGET_DIR=target/rust-guests` (a target dir of its own: the nested cargo must
/// not wait on the lock of the cargo running the tests) and without the host's
/// `RUSTFLAGS`. Panics with cargo's output if the build fails.
pub fn rust_guest(example: &str, target: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<(String, String), PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    // Held during the build: concurrent tests wait for the one build.
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    let key = (example.to_string(), target.to_string());
    if let Some(p) = built.get(&key) {
        return p.clone();
    }
    let dir = rust_guest_dir();
    assert!(
        dir.join(format!("examples/{example}.rs")).is_file(),
        "no example guest/rust/examples/{example}.rs"
    );
    let target_dir = repo_root().join("target/rust-guests");
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&dir)
        .args([
            "build",
            "--release",
            "--example",
            example,
            "--target",
            target,
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
        // Flags meant for the host build must not leak into the wasm build.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("run cargo to build the Rust guest");
    assert!(
        out.status.success(),
        "building Rust guest example {example} for {target} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = target_dir
        .join(target)
        .join("release/examples")
        .join(format!("{example}.wasm"));
    assert!(path.is_file(), "{} was not built", path.display());
    built.insert(key, path.clone());
    path
}
