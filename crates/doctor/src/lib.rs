//! `wasmgate doctor`: explains what a `.wasm` file is, who built it, and why it can or
//! cannot reach the network under wasmgate, with the exact change that fixes it.
//!
//! The file is parsed once ([`inspect::inspect`]) into [`Facts`]; then every check in
//! `checks/` (one per file) turns facts into [`Finding`]s; [`report`] renders them for
//! humans or as JSON (schema in `docs/doctor.md`). Nothing here runs the guest.

#![warn(missing_docs)]

mod checks;
pub mod host;
pub mod inspect;
pub mod report;
mod stack;

pub use inspect::{Facts, InspectError, Kind, MAX_INPUT_BYTES};
pub use report::Report;

use serde::Serialize;
use wasmgate_policy::AllowRule;

/// How bad a finding is. Ordered: errors first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The guest will not work (or not reach the network) under wasmgate as it is.
    Error,
    /// Likely a problem, or one depending on what the guest does.
    Warning,
    /// What the file is; things worth knowing.
    Info,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// One diagnosis: what is the case, why it matters, and what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable identifier (documented in docs/doctor.md), e.g. `tinygo-netdev`.
    pub id: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// One line: the finding itself.
    pub title: String,
    /// Why, in plain words (may span lines).
    pub explanation: String,
    /// What to change, when something should change (may span lines; code lines are
    /// indented by four spaces).
    pub fix: Option<String>,
}

impl Finding {
    pub(crate) fn new(
        id: &'static str,
        severity: Severity,
        title: impl Into<String>,
        explanation: impl Into<String>,
    ) -> Self {
        Self {
            id,
            severity,
            title: title.into(),
            explanation: explanation.into(),
            fix: None,
        }
    }

    pub(crate) fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// What the user told doctor besides the file: the policy `wasmgate run` would use.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The allow rules (`--allow` and the config file's `allow`), already parsed.
    pub rules: Vec<AllowRule>,
    /// True when the user gave `--allow` or `--config` at all (an empty config file
    /// then means "deny everything" on purpose or by mistake).
    pub policy_given: bool,
}

/// Diagnoses a file's bytes. Never panics on any input; a file that is not wasm, is
/// truncated or too large gives a report with one error finding.
pub fn diagnose(bytes: &[u8], ctx: &Context) -> Report {
    match inspect::inspect(bytes) {
        Ok(facts) => {
            let mut findings = checks::run_all(&facts, ctx);
            // Errors first; within a severity, the order of the checks.
            findings.sort_by_key(|f| f.severity);
            Report::new(Some(facts), findings)
        }
        Err(e) => Report::new(None, vec![unreadable(&e)]),
    }
}

/// Reads and diagnoses a file, refusing files over [`MAX_INPUT_BYTES`] before
/// reading them. Errors are I/O errors (missing, unreadable file).
pub fn diagnose_file(path: &std::path::Path, ctx: &Context) -> std::io::Result<Report> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    if meta.len() > MAX_INPUT_BYTES {
        let e = InspectError::TooLarge(meta.len());
        return Ok(Report::new(None, vec![unreadable(&e)]));
    }
    let mut bytes = Vec::new();
    // `take` guards against a file that grows while it is read.
    file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    Ok(diagnose(&bytes, ctx))
}

fn unreadable(e: &InspectError) -> Finding {
    let (id, fix) = match e {
        InspectError::TooLarge(_) => (
            "too-large",
            "Check that this is the .wasm you meant (a guest is normally a few MiB); strip debug info with `wasm-tools strip` if it is.",
        ),
        InspectError::NotWasm => (
            "not-wasm",
            "Pass the .wasm your build produced (e.g. target/wasm32-wasip2/release/app.wasm); convert a .wat with `wasm-tools parse app.wat -o app.wasm`.",
        ),
        InspectError::Malformed(_) => (
            "malformed",
            "Rebuild the file; if it was downloaded or copied, check that the copy is complete.",
        ),
    };
    Finding::new(
        id,
        Severity::Error,
        "The file cannot be read as WebAssembly",
        e.to_string(),
    )
    .fix(fix)
}
