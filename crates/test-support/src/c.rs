//! Builds the C guests of `guest/c` (the C header's test programs and examples) with
//! clang for `wasm32-wasi`, once per test process.
//!
//! clang, lld and wasi-libc come from `scripts/setup-c.sh` (apt-get); `WASMGATE_CLANG`
//! overrides the clang binary.

use crate::guests::repo_root;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The C guest library directory, `guest/c`.
pub fn c_dir() -> PathBuf {
    repo_root().join("guest/c")
}

fn clang() -> PathBuf {
    std::env::var_os("WASMGATE_CLANG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("clang"))
}

/// Path of the built `.wasm` of a C guest: `guest/c/testprograms/<program>.c`, or, if
/// there is none, `guest/c/examples/<program>.c` (a `examples/get` style path relative
/// to `guest/c`, without `.c`, works too). Built with
/// `clang --target=wasm32-wasi -O2` into `target/c-guests/<program>.wasm` once per
/// process; panics with clang's output if the build fails.
pub fn c_guest(program: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    // Held during the build so that concurrent tests wait for the one build.
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(program) {
        return p.clone();
    }
    let dir = c_dir();
    let source = [
        dir.join(format!("{program}.c")),
        dir.join(format!("testprograms/{program}.c")),
        dir.join(format!("examples/{program}.c")),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .unwrap_or_else(|| {
        panic!("no C guest {program}.c in guest/c/testprograms or guest/c/examples")
    });

    let out_dir = repo_root().join("target/c-guests");
    std::fs::create_dir_all(&out_dir).expect("create target/c-guests");
    let name = program.replace('/', "-");
    let path = out_dir.join(format!("{name}.wasm"));
    // Built under a private name and renamed: another test process may be reading the
    // previous build.
    let tmp = out_dir.join(format!("{name}.{}.tmp.wasm", std::process::id()));
    let out = match Command::new(clang())
        .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(&dir)
        .arg(&source)
        .arg("-o")
        .arg(&tmp)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "clang not found ({e}): run scripts/setup-c.sh to install clang, lld and wasi-libc"
        ),
        Err(e) => panic!("could not run clang: {e}"),
    };
    assert!(
        out.status.success(),
        "building C guest {} failed (if the wasi sysroot or wasm-ld is missing, run \
         scripts/setup-c.sh):\n{}\n{}",
        source.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&tmp, &path).expect("move the built C guest into place");
    built.insert(program.to_string(), path.clone());
    path
}
