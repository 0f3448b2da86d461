//! The flags `run` and `serve` share, defined once and flattened into both: the policy,
//! the outbound limits, what the guest sees (env, dirs, memory), logs and the cache.

use crate::config::{self, ConfigFile};
use crate::exit::ExitCodeKind;
use crate::report::{StderrReporter, print_error};
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmgate::{DirGrant, JsonlAuditLog, Runner, RunnerBuilder};
use wasmgate_policy::{Limits, Policy, parse_cidr, parse_duration, parse_size};

/// Flags of `wasmgate run` and `wasmgate serve` alike.
#[derive(Args)]
pub(crate) struct GuestFlags {
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
    #[command(flatten)]
    tls: crate::tls::TlsFlags,
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
    #[command(flatten)]
    tape: super::tape_flags::TapeFlags,
    #[command(flatten)]
    egress: super::egress_flags::EgressFlags,
}

/// The shared flags and the config file, validated.
pub(crate) struct GuestPlan {
    pub(crate) policy: Policy,
    pub(crate) ca_files: Vec<PathBuf>,
    pub(crate) tls: crate::tls::TlsPlan,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) dirs: Vec<DirGrant>,
    pub(crate) max_memory: u64,
    pub(crate) audit_log: Option<PathBuf>,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) cache_max_size: u64,
    pub(crate) verbose: bool,
    pub(crate) tape: super::tape_flags::TapePlan,
    pub(crate) egress: super::egress_flags::EgressPlan,
}

impl GuestFlags {
    /// The config file named by `--config`, if any.
    pub(crate) fn config_file(&self) -> Result<ConfigFile, String> {
        config::load_optional(self.config.as_deref())
    }

    /// Validates these flags over an already parsed config file.
    pub(crate) fn plan_with(self, file: &mut ConfigFile) -> Result<GuestPlan, String> {
        let rules = config::allow_rules(file, &self.allow)?;
        let cidrs = file
            .allow_cidr
            .iter()
            .chain(&self.allow_cidr)
            .map(|c| parse_cidr(c).map_err(|e| format!("--allow-cidr: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let limits = limits(file, &self)?;
        let tape = self.tape.plan_with(&mut file.record, &mut file.replay)?;
        let tls = crate::tls::plan(file.ca_system, std::mem::take(&mut file.tls), self.tls)?;
        let egress = self.egress.plan(file)?;

        let mut env: Vec<(String, String)> = std::mem::take(&mut file.env).into_iter().collect();
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
        let max_memory = match self.max_memory.as_deref().or(file.max_memory.as_deref()) {
            Some(m) => parse_size(m).map_err(|e| format!("--max-memory: {e}"))?,
            None => wasmgate::DEFAULT_MAX_MEMORY,
        };
        Ok(GuestPlan {
            policy: Policy::new(rules, cidrs, limits),
            ca_files: std::mem::take(&mut file.ca_certs)
                .into_iter()
                .chain(self.ca_cert)
                .collect(),
            tls,
            env,
            dirs,
            max_memory,
            audit_log: self.audit_log.or(file.audit_log.take()),
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
            verbose: self.verbose,
            tape,
            egress,
        })
    }
}

/// The runner both commands build from a plan: policy, stderr reporter, cache, CA
/// files and the audit log. Errors are printed; the exit code is returned.
pub(crate) struct BuiltRunner {
    pub(crate) runner: Runner,
    pub(crate) audit: Option<Arc<JsonlAuditLog<std::fs::File>>>,
}

impl GuestPlan {
    /// A runner builder with everything of the plan but the policy's consumers
    /// (`configure` may add more before it is built).
    pub(crate) fn runner(
        &mut self,
        configure: impl FnOnce(RunnerBuilder) -> RunnerBuilder,
    ) -> Result<BuiltRunner, ExitCodeKind> {
        // Promise "later runs load it from the cache" only where an entry can be written.
        let cached = self.cache_dir.as_deref().is_some_and(writable_dir);
        let mut builder = Runner::builder()
            .policy(std::mem::replace(&mut self.policy, Policy::deny_all()))
            .event_sink(Arc::new(StderrReporter {
                verbose: self.verbose,
            }))
            .on_slow_compile(Arc::new(move |name| {
                let later = if cached {
                    "; later runs load it from the cache"
                } else {
                    ""
                };
                eprintln!("wasmgate: compiling {name}{later}…");
            }));
        if let Some(dir) = self.cache_dir.clone() {
            builder = builder.cache_dir(dir).cache_max_size(self.cache_max_size);
        }
        for ca in &self.ca_files {
            builder = builder.ca_file(ca);
        }
        builder = builder.ca_system(self.tls.ca_system);
        for entry in std::mem::take(&mut self.tls.entries) {
            builder = builder.tls_entry(entry);
        }
        builder = self.egress.apply(builder);
        let mut audit = None;
        if let Some(path) = &self.audit_log {
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
                    return Err(ExitCodeKind::Usage);
                }
            }
        }
        let builder = match self.tape.apply(builder) {
            Ok(b) => b,
            Err(e) => {
                print_error(&e);
                return Err(ExitCodeKind::Usage);
            }
        };
        match configure(builder).build() {
            Ok(runner) => Ok(BuiltRunner { runner, audit }),
            Err(e) => {
                print_error(&e);
                Err(ExitCodeKind::Usage)
            }
        }
    }

    /// Warns when the audit log (or the recording) lost lines.
    pub(crate) fn check_audit(&self, built_audit: Option<&JsonlAuditLog<std::fs::File>>) {
        self.tape.check();
        if let (Some(log), Some(path)) = (built_audit, &self.audit_log)
            && let Some(e) = log.write_error()
        {
            eprintln!(
                "wasmgate: warning: the audit log {} is incomplete: {e}",
                path.display()
            );
        }
    }
}

/// Defaults, then the config file's `[limits]`, then flags.
fn limits(file: &ConfigFile, flags: &GuestFlags) -> Result<Limits, String> {
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

/// Checks, before anything starts, that `file` is a regular file this process can open;
/// otherwise says why and gives the exit code for a missing guest (127).
pub(crate) fn check_guest_file(file: &Path) -> Result<(), std::process::ExitCode> {
    let checked = std::fs::File::open(file).and_then(|f| {
        if f.metadata()?.is_file() {
            Ok(())
        } else {
            Err(std::io::Error::other("it is not a regular file"))
        }
    });
    checked.map_err(|e| {
        eprintln!(
            "error: cannot read {}: {e}; expected the path of a .wasm file",
            file.display()
        );
        std::process::ExitCode::from(ExitCodeKind::NotFound.code())
    })
}

/// Builds the async runtime from `builder`, or says why not (exit 125).
pub(crate) fn start_runtime(
    mut builder: tokio::runtime::Builder,
) -> Result<tokio::runtime::Runtime, std::process::ExitCode> {
    builder.enable_all().build().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        std::process::ExitCode::from(ExitCodeKind::Usage.code())
    })
}
