//! `wasip1-hello`: a plain std program for wasm32-wasip1 (a core module),
//! used to test the host's preview1 support: args, env, exit codes,
//! preopened directories, traps, timeouts and memory limits.

use std::hint::black_box;
use std::io::Write;

use test_programs::{parse_i32, parse_u64};

fn main() {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();

    println!("hello from wasip1");
    for a in &args {
        println!("arg: {a}");
    }
    for (k, v) in std::env::vars_os() {
        println!("env: {}={}", k.to_string_lossy(), v.to_string_lossy());
    }
    let _ = std::io::stdout().flush();

    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["exit", code, ..] => {
            if let Some(code) = parse_i32(code) {
                std::process::exit(code);
            }
        }
        ["read-file", path, ..] => match std::fs::read(path) {
            Ok(contents) => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(&contents);
                let _ = out.flush();
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        },
        ["trap", ..] => std::process::abort(),
        ["spin", ..] => spin(),
        ["alloc", mb, ..] => {
            if let Some(mb) = parse_u64(mb) {
                alloc(mb);
                println!("allocated");
            }
        }
        _ => {}
    }
}

/// Busy-loops forever (only an epoch/fuel/timeout interrupt stops it).
fn spin() -> ! {
    let mut n = 0u64;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Allocates `mb` MiB and writes to every page of it.
fn alloc(mb: u64) {
    let bytes = usize::try_from(mb)
        .ok()
        .and_then(|mb| mb.checked_mul(1024 * 1024))
        .unwrap_or(usize::MAX);
    // An allocation failure aborts (traps) the program, which is what a
    // memory-limit test expects to see.
    let mut v: Vec<u8> = vec![0; bytes];
    for i in (0..bytes).step_by(4096) {
        v[i] = 1;
    }
    black_box(&v);
}
