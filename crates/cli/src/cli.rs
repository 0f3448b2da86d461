//! The subcommand enum; each subcommand's flags and behaviour live in `commands/`.

use clap::{Parser, Subcommand};

/// Run WebAssembly programs that may reach the network only where you allow it.
#[derive(Parser)]
#[command(name = "wasmgate", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run a wasip2 component or a wasip1 core module.
    Run(crate::commands::run::RunCommand),
}
