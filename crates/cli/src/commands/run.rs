//! `wasmgate run`: run a guest with the network access the rules allow.

use crate::config::{self, ConfigFile};
use crate::exit::ExitCodeKind;
use crate::report::{StderrReporter, print_error};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use wasmgate::{DirGrant, ErrorKind, GuestConfig, JsonlAuditLog, Runner, Stdio};
use wasmgate_policy::{Limits, Policy, parse_cidr, parse_duration, parse_size};

/// Flags of `wasmgate run`.
#[derive(Args)]
pub(crate) struct RunCommand {
    /// Allow requests matching RULE: `[METHOD[,METHOD…] ]SCHEME://HOST[:PORT][/PATH-PREFIX]`
    /// (repeatable), e.g. `https://api.example.com` or `'GET http://127.0.0.1:8080/v1'`.
    #[arg(long = "allow", value_name = "RULE")]
    allow: Vec<String>,
    /// Let requests reach addresses in CIDR although they are loopback/private/link-local…
    /// (repeatable), e.g. `127.0.0.1/32`.
    #[arg(long = "allow-cidr", value_name = "CIDR")]
    allow_cidr: Vec<String>,
    /// Read settings from a TOML file; flags add to it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Set a guest environment variable (repeatable).
    #[arg(long = "env", short = 'e', value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Give the guest a host directory: `HOST_DIR[::GUEST_DIR]` (repeatable).
    #[arg(long = "dir", value_name = "HOST_DIR[::GUEST_DIR]")]
    dir: Vec<String>,
    /// Trust the CA certificates in this PEM file besides the web roots (repeatable).
    #[arg(long = "ca-cert", value_name = "FILE.pem")]
    ca_cert: Vec<PathBuf>,
    /// Per-request connect timeout (default 10s).
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    connect_timeout: Option<String>,
    /// Per-request time to the response head (default 30s).
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    first_byte_timeout: Option<String>,
    /// Longest pause between response body chunks (default 30s).
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    between_bytes_timeout: Option<String>,
    /// Largest request body (default 100MiB).
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    max_request_body: Option<String>,
    /// Largest response body (default 1GiB).
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    max_response_body: Option<String>,
    /// Requests in flight at once (default 64).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    max_concurrent_requests: Option<usize>,
    /// Requests per run (default 100000).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    max_requests: Option<u64>,
    /// Stop the guest after this long (default: no limit).
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    timeout: Option<String>,
    /// Cap the guest's memory (default 1GiB).
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    max_memory: Option<String>,
    /// Append one JSON object per request decision to FILE.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// Print one line per request (decision, status, bytes, ms).
    #[arg(long, short)]
    verbose: bool,
    /// Compile the guest afresh instead of loading/storing compiled code in the cache
    /// ($XDG_CACHE_HOME/wasmgate or ~/.cache/wasmgate).
    #[arg(long)]
    no_cache: bool,
    /// Keep the compiled-code cache at most this big, evicting the least recently used
    /// entries (default 512MiB).
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    cache_max_size: Option<String>,
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
    policy: Policy,
    ca_files: Vec<PathBuf>,
    guest: GuestConfig,
    audit_log: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
    cache_max_size: u64,
}

impl RunCommand {
    pub(crate) fn execute(self) -> ExitCode {
        let verbose = self.verbose;
        let file = PathBuf::from(&self.guest[0]);
        let plan = match self.plan() {
            Ok(p) => p,
            Err(msg) => {
                eprintln!("error: {msg}");
                return ExitCode::from(ExitCodeKind::Usage.code());
            }
        };
        if let Err(e) = std::fs::File::open(&file).and_then(|f| {
            if f.metadata()?.is_file() {
                Ok(())
            } else {
                Err(std::io::Error::other("it is not a regular file"))
            }
        }) {
            eprintln!(
                "error: cannot read {}: {e}; expected the path of a .wasm file",
                file.display()
            );
            return ExitCode::from(ExitCodeKind::NotFound.code());
        }
        // One thread: the guest, its requests' connections and its timers all run where
        // the guest runs, so a request costs no hand-off between threads (docs/benchmarks.md).
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("error: cannot start the async runtime: {e}");
                return ExitCode::from(ExitCodeKind::Usage.code());
            }
        };
        // A task, not the `block_on` future itself: waking a current-thread runtime's
        // `block_on` future costs a syscall (it unparks the driver), waking a task does not,
        // and the guest is woken at least once per request.
        runtime.block_on(async move {
            match tokio::spawn(run(plan, file, verbose)).await {
                Ok(code) => code,
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        })
    }

    fn plan(self) -> Result<Plan, String> {
        let file = config::load_optional(self.config.as_deref())?;
        self.plan_with(file)
    }

    /// The plan from an already parsed config file and these flags.
    fn plan_with(self, file: ConfigFile) -> Result<Plan, String> {
        let rules = config::allow_rules(&file, &self.allow)?;
        let cidrs = file
            .allow_cidr
            .iter()
            .chain(&self.allow_cidr)
            .map(|c| parse_cidr(c).map_err(|e| format!("--allow-cidr: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let limits = limits(&file, &self)?;

        let mut env: Vec<(String, String)> = file.env.into_iter().collect();
        for kv in &self.env {
            let Some((k, v)) = kv.split_once('=') else {
                return Err(format!(
                    "invalid --env {kv:?}: expected KEY=VALUE, e.g. --env API_TOKEN=abc"
                ));
            };
            if k.is_empty() {
                return Err(format!("invalid --env {kv:?}: the KEY before `=` is empty"));
            }
            env.retain(|(old, _)| old != k);
            env.push((k.to_string(), v.to_string()));
        }
        let dirs = file
            .dirs
            .iter()
            .chain(&self.dir)
            .map(|d| DirGrant::parse(d).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let timeout = self
            .timeout
            .as_deref()
            .or(file.timeout.as_deref())
            .map(|t| parse_duration(t).map_err(|e| format!("--timeout: {e}")))
            .transpose()?;
        let max_memory = match self.max_memory.as_deref().or(file.max_memory.as_deref()) {
            Some(m) => parse_size(m).map_err(|e| format!("--max-memory: {e}"))?,
            None => wasmgate::DEFAULT_MAX_MEMORY,
        };
        let program_name = Path::new(&self.guest[0])
            .file_name()
            .map_or_else(|| "main.wasm".into(), |n| n.to_string_lossy().into_owned());
        Ok(Plan {
            policy: Policy::new(rules, cidrs, limits),
            ca_files: file.ca_certs.into_iter().chain(self.ca_cert).collect(),
            guest: GuestConfig {
                program_name,
                args: self.guest[1..].to_vec(),
                env,
                dirs,
                timeout,
                max_memory,
                stdio: Stdio::Inherit,
            },
            audit_log: self.audit_log.or(file.audit_log),
            cache_dir: if self.no_cache {
                None
            } else {
                wasmgate::default_cache_dir()
            },
            cache_max_size: match self
                .cache_max_size
                .as_deref()
                .or(file.cache_max_size.as_deref())
            {
                Some(m) => parse_size(m).map_err(|e| format!("--cache-max-size: {e}"))?,
                None => wasmgate::DEFAULT_CACHE_MAX_SIZE,
            },
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

/// Defaults, then the config file's `[limits]`, then flags.
fn limits(file: &ConfigFile, flags: &RunCommand) -> Result<Limits, String> {
    let mut l = Limits::default();
    let f = &file.limits;
    let dur = |flag: &str, v: Option<&str>, slot: &mut std::time::Duration| -> Result<(), String> {
        if let Some(v) = v {
            *slot = parse_duration(v).map_err(|e| format!("{flag}: {e}"))?;
        }
        Ok(())
    };
    dur(
        "--connect-timeout",
        flags
            .connect_timeout
            .as_deref()
            .or(f.connect_timeout.as_deref()),
        &mut l.connect_timeout,
    )?;
    dur(
        "--first-byte-timeout",
        flags
            .first_byte_timeout
            .as_deref()
            .or(f.first_byte_timeout.as_deref()),
        &mut l.first_byte_timeout,
    )?;
    dur(
        "--between-bytes-timeout",
        flags
            .between_bytes_timeout
            .as_deref()
            .or(f.between_bytes_timeout.as_deref()),
        &mut l.between_bytes_timeout,
    )?;
    let size = |flag: &str, v: Option<&str>, slot: &mut u64| -> Result<(), String> {
        if let Some(v) = v {
            *slot = parse_size(v).map_err(|e| format!("{flag}: {e}"))?;
        }
        Ok(())
    };
    size(
        "--max-request-body",
        flags
            .max_request_body
            .as_deref()
            .or(f.max_request_body.as_deref()),
        &mut l.max_request_body,
    )?;
    size(
        "--max-response-body",
        flags
            .max_response_body
            .as_deref()
            .or(f.max_response_body.as_deref()),
        &mut l.max_response_body,
    )?;
    if let Some(n) = flags.max_concurrent_requests.or(f.max_concurrent_requests) {
        if n == 0 {
            return Err(
                "--max-concurrent-requests 0 would refuse every request; expected at least 1"
                    .into(),
            );
        }
        l.max_concurrent_requests = n;
    }
    if let Some(n) = flags.max_requests.or(f.max_requests) {
        l.max_requests = n;
    }
    Ok(l)
}

async fn run(plan: Plan, file: PathBuf, verbose: bool) -> ExitCode {
    // Promise "later runs load it from the cache" only where an entry can be written.
    let cached = plan.cache_dir.as_deref().is_some_and(writable_dir);
    let mut builder = Runner::builder()
        .policy(plan.policy)
        .event_sink(Arc::new(StderrReporter { verbose }))
        .on_slow_compile(Arc::new(move |name| {
            let later = if cached {
                "; later runs load it from the cache"
            } else {
                ""
            };
            eprintln!("wasmgate: compiling {name}{later}…");
        }));
    if let Some(dir) = plan.cache_dir {
        builder = builder.cache_dir(dir).cache_max_size(plan.cache_max_size);
    }
    for ca in plan.ca_files {
        builder = builder.ca_file(ca);
    }
    let mut audit = None;
    if let Some(path) = &plan.audit_log {
        let opened = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path);
        match opened {
            Ok(f) => {
                let log = Arc::new(JsonlAuditLog::new(f));
                audit = Some(log.clone());
                builder = builder.event_sink(log);
            }
            Err(e) => {
                eprintln!("error: cannot open audit log {}: {e}", path.display());
                return ExitCode::from(ExitCodeKind::Usage.code());
            }
        }
    }
    let runner = match builder.build() {
        Ok(r) => r,
        Err(e) => {
            print_error(&e);
            return ExitCode::from(ExitCodeKind::Usage.code());
        }
    };
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
    if let (Some(log), Some(path)) = (&audit, &plan.audit_log)
        && let Some(e) = log.write_error()
    {
        eprintln!(
            "wasmgate: warning: the audit log {} is incomplete: {e}",
            path.display()
        );
    }
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

/// Whether files can be created in `dir`, or in the nearest existing folder above it
/// when it does not exist yet (the library creates it, private, on first store): false
/// for a read-only mount or someone else's directory.
fn writable_dir(dir: &Path) -> bool {
    let Some(existing) = dir.ancestors().find(|d| d.is_dir()) else {
        return false;
    };
    let probe = existing.join(format!(".wasmgate-probe-{}", std::process::id()));
    let ok = std::fs::File::create(&probe).is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}
