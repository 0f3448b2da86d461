//! The `wasmgate` command. Everything lives in the library half of this crate.

fn main() -> std::process::ExitCode {
    wasmgate_cli::main()
}
