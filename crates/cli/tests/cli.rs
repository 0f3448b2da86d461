//! Integration tests of the `wasmgate` binary: they run it as a user would, against
//! servers on 127.0.0.1 that the tests start themselves, and check exit codes, stderr
//! messages, stdout and the audit log.
//!
//! One test binary; the categories live in `tests/cli/`.

#[path = "cli/support.rs"]
mod support;

#[path = "cli/config_file.rs"]
mod config_file;
#[path = "cli/denials.rs"]
mod denials;
#[path = "cli/egress.rs"]
mod egress;
#[path = "cli/exit_codes.rs"]
mod exit_codes;
#[path = "cli/https.rs"]
mod https;
#[path = "cli/limits.rs"]
mod limits;
#[path = "cli/record.rs"]
mod record;
#[path = "cli/refused.rs"]
mod refused;
#[path = "cli/run_end.rs"]
mod run_end;
#[path = "cli/tls_config.rs"]
mod tls_config;
#[path = "cli/verbose_and_audit.rs"]
mod verbose_and_audit;
