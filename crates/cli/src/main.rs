//! The `wasmgate` command. Everything lives in the library half of this crate.

fn main() -> std::process::ExitCode {
    // Wasmtime's errors capture a host backtrace when RUST_BACKTRACE is set, and some
    // reach the guest as text (wasi:http stream errors). Guests must not see host
    // internals, so library backtraces are off unless asked for explicitly; panics
    // still honour RUST_BACKTRACE.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: first thing in main, before any other thread exists.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    wasmgate_cli::main()
}
