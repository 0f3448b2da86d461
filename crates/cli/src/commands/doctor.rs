//! `wasmgate doctor`: explain what a `.wasm` is, who built it, and why it can or cannot
//! reach the network, with the exact change that fixes it. Also the one-line hint
//! `wasmgate run` prints when a guest fails to link, traps or exits with an error.

use crate::config;
use crate::exit::ExitCodeKind;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use wasmgate_doctor::{Context, Severity};

/// Flags of `wasmgate doctor`.
#[derive(Args)]
pub(crate) struct DoctorCommand {
    /// Print the report as JSON (schema: docs/doctor.md, `schema_version` 1).
    #[arg(long)]
    json: bool,
    /// An allow rule `wasmgate run` would get (repeatable), checked against the binary.
    #[arg(long = "allow", value_name = "RULE")]
    allow: Vec<String>,
    /// The config file `wasmgate run` would get; its `allow` rules are checked.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The guest to examine (a wasip2 component or a wasip1 core module).
    #[arg(value_name = "FILE.wasm")]
    file: PathBuf,
}

impl DoctorCommand {
    pub(crate) fn execute(self) -> ExitCode {
        let policy_given = self.config.is_some() || !self.allow.is_empty();
        let rules = config::load_optional(self.config.as_deref())
            .and_then(|file| config::allow_rules(&file, &self.allow));
        let rules = match rules {
            Ok(r) => r,
            Err(msg) => {
                eprintln!("error: {msg}");
                return ExitCode::from(ExitCodeKind::Usage.code());
            }
        };
        let ctx = Context {
            rules,
            policy_given,
        };
        let report = match wasmgate_doctor::diagnose_file(&self.file, &ctx) {
            Ok(r) => r,
            Err(e) => {
                eprintln!(
                    "error: cannot read {}: {e}; expected the path of a .wasm file",
                    self.file.display()
                );
                return ExitCode::from(ExitCodeKind::NotFound.code());
            }
        };
        let name = self.file.display().to_string();
        let text = if self.json {
            report.json(&name)
        } else {
            report.human(&name)
        };
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        ExitCode::from(if report.ok() { 0 } else { 1 })
    }
}

/// After a failed run: one line pointing at the diagnosis, when doctor has one.
/// `errors_only` for a guest that merely exited non-zero (most such exits have
/// nothing to do with how it was built).
pub(crate) fn hint(file: &Path, errors_only: bool) {
    let Ok(report) = wasmgate_doctor::diagnose_file(file, &Context::default()) else {
        return;
    };
    let Some(top) = report.top() else { return };
    if errors_only && top.severity != Severity::Error {
        return;
    }
    eprintln!(
        "hint: run `wasmgate doctor {}`: {}",
        file.display(),
        top.title
    );
}
