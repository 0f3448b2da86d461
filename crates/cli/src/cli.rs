//! The subcommand enum; each subcommand's flags and behaviour live in `commands/`.

use clap::{Parser, Subcommand};

/// Run WebAssembly programs that may reach the network only where you allow it.
#[derive(Parser)]
#[command(name = "wasmgate", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

// Parsed once per process: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run a wasip2 component or a wasip1 core module.
    Run(crate::commands::run::RunCommand),
    /// Serve HTTP: one fresh guest instance per request (a wasi:http component, or a
    /// wasip1 core module through CGI), under the same policy as `run`.
    Serve(crate::commands::serve::ServeCommand),
    /// Explain what a .wasm is and why it can or cannot reach the network, with fixes.
    Doctor(crate::commands::doctor::DoctorCommand),
    /// List or clear the compiled-code cache that `run` keeps.
    Cache(crate::commands::cache::CacheCommand),
}
