//! `wasmgate run`: run a guest with the network access the rules allow.

use super::guest_flags::{GuestFlags, GuestPlan, check_guest_file, start_runtime};
use crate::config::{self, ConfigFile};
use crate::exit::ExitCodeKind;
use crate::report::print_error;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use wasmgate::{ErrorKind, GuestConfig, Stdio};
use wasmgate_policy::parse_duration;

/// Flags of `wasmgate run`.
#[derive(Args)]
pub(crate) struct RunCommand {
    #[command(flatten)]
    flags: GuestFlags,
    /// Stop the guest after this long (default: no limit).
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    timeout: Option<String>,
    /// The guest (a wasip2 component or a wasip1 core module), then its arguments.
    /// Everything after FILE.wasm goes to the guest, as with `wasmtime run`.
    #[arg(
        value_name = "FILE.wasm [ARGS]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true
    )]
    guest: Vec<String>,
}

/// Everything validated, ready to run.
struct Plan {
    shared: GuestPlan,
    guest: GuestConfig,
}

impl RunCommand {
    pub(crate) fn execute(self) -> ExitCode {
        let file = PathBuf::from(&self.guest[0]);
        let plan = match self.plan() {
            Ok(p) => p,
            Err(msg) => {
                eprintln!("error: {msg}");
                return ExitCode::from(ExitCodeKind::Usage.code());
            }
        };
        if let Err(code) = check_guest_file(&file) {
            return code;
        }
        // One thread: the guest, its requests' connections and its timers all run where
        // the guest runs, so a request costs no hand-off between threads (docs/benchmarks.md).
        let runtime = match start_runtime(tokio::runtime::Builder::new_current_thread()) {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        // A task, not the `block_on` future itself: waking a current-thread runtime's
        // `block_on` future costs a syscall (it unparks the driver), waking a task does not,
        // and the guest is woken at least once per request.
        runtime.block_on(async move {
            match tokio::spawn(run(plan, file)).await {
                Ok(code) => code,
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        })
    }

    fn plan(self) -> Result<Plan, String> {
        let file = self.flags.config_file()?;
        self.plan_with(file)
    }

    /// The plan from an already parsed config file and these flags.
    fn plan_with(self, mut file: ConfigFile) -> Result<Plan, String> {
        let shared = self.flags.plan_with(&mut file)?;
        let timeout = self
            .timeout
            .as_deref()
            .or(file.timeout.as_deref())
            .map(|t| parse_duration(t).map_err(|e| format!("--timeout: {e}")))
            .transpose()?;
        let program_name = Path::new(&self.guest[0])
            .file_name()
            .map_or_else(|| "main.wasm".into(), |n| n.to_string_lossy().into_owned());
        Ok(Plan {
            guest: GuestConfig {
                program_name,
                args: self.guest[1..].to_vec(),
                env: shared.env.clone(),
                dirs: shared.dirs.clone(),
                timeout,
                max_memory: shared.max_memory,
                stdio: Stdio::Inherit,
            },
            shared,
        })
    }
}

/// For fuzz/: `wasmgate run --config FILE guest.wasm` up to the validated plan, with
/// `text` as the file's contents. Ok or the error message `run` would print.
pub(crate) fn check_config_text(text: &str) -> Result<(), String> {
    let path = Path::new("/fuzz/wasmgate.toml");
    let file = config::parse(text, path)?;
    let cli = <crate::cli::Cli as clap::Parser>::try_parse_from(["wasmgate", "run", "guest.wasm"])
        .map_err(|e| e.to_string())?;
    let crate::cli::Command::Run(cmd) = cli.command else {
        unreachable!("parsed as `run`")
    };
    cmd.plan_with(file).map(drop)
}

async fn run(mut plan: Plan, file: PathBuf) -> ExitCode {
    let built = match plan.shared.runner(|b| b) {
        Ok(b) => b,
        Err(kind) => return ExitCode::from(kind.code()),
    };
    let runner = built.runner;
    let outcome = match runner.run_file(&file, &plan.guest).await {
        Ok(o) => o,
        Err(e) => {
            print_error(&e);
            let kind = match e.kind() {
                ErrorKind::Config => ExitCodeKind::Usage,
                _ => ExitCodeKind::Load,
            };
            if matches!(e.kind(), ErrorKind::Load | ErrorKind::Link) {
                super::doctor::hint(&file, false);
            }
            return ExitCode::from(kind.code());
        }
    };
    plan.shared.check_audit(built.audit.as_deref());
    match outcome.status {
        Ok(code) => {
            if code != 0 {
                super::doctor::hint(&file, true);
            }
            ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1))
        }
        Err(e) => {
            print_error(&e);
            if e.kind() == ErrorKind::Trap {
                super::doctor::hint(&file, false);
            }
            ExitCode::from(match e.kind() {
                ErrorKind::Timeout => ExitCodeKind::Timeout.code(),
                _ => ExitCodeKind::Trap.code(),
            })
        }
    }
}
