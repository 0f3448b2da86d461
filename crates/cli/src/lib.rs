//! The `wasmgate` command line: a thin layer that parses flags and config files into the
//! `wasmgate` library's validated types and prints what happened.

mod cli;
mod commands;
mod config;
mod exit;
mod report;
mod tls;

pub use exit::ExitCodeKind;

use clap::Parser;
use std::process::ExitCode;

/// For the fuzz targets in fuzz/ only (not an API): the config-file path of `wasmgate
/// run` (TOML → ConfigFile → validated plan) on `text`, as if passed with `--config`.
#[doc(hidden)]
pub fn check_config_text(text: &str) -> Result<(), String> {
    commands::run::check_config_text(text)
}

/// Parses the command line, runs the subcommand and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitCodeKind::Usage.code()
            } else {
                0 // --help, --version
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        cli::Command::Run(cmd) => cmd.execute(),
        cli::Command::Serve(cmd) => cmd.execute(),
        cli::Command::Doctor(cmd) => cmd.execute(),
        cli::Command::Cache(cmd) => cmd.execute(),
    }
}
