//! `wasmgate serve`: serve HTTP with one guest instance per request (a `wasi:http`
//! component, or a wasip1 core module through CGI), under `run`'s policy and limits.

use super::guest_flags::{GuestFlags, GuestPlan, check_guest_file, start_runtime};
use crate::config::{ConfigFile, ServeSection};
use crate::exit::ExitCodeKind;
use crate::report::print_error;
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use wasmgate::serve::{AccessRecord, AccessSink, DEFAULT_ADDR, JsonlAccessLog, READY_PATH};
use wasmgate::{ErrorKind, GuestConfig, ServeConfig, ServeLimits, Server, ServerTlsFiles, Stdio};
use wasmgate_policy::{parse_duration, parse_size};

/// Flags of `wasmgate serve`.
#[derive(Args)]
pub(crate) struct ServeCommand {
    #[command(flatten)]
    flags: GuestFlags,
    /// Address to listen on (default 127.0.0.1:8080; 0.0.0.0:PORT for every interface).
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<String>,
    /// Terminate TLS with this certificate chain (PEM; needs --tls-key).
    #[arg(long, value_name = "FILE.pem", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key for --tls-cert (PEM).
    #[arg(long, value_name = "FILE.pem", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve Prometheus metrics (/metrics) and readiness (/healthz) on this address.
    #[arg(long, value_name = "HOST:PORT")]
    metrics_addr: Option<String>,
    /// Longest a handler may take for one request, body included (default 30s): 504.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    request_timeout: Option<String>,
    /// Handler instances at once (default 64); past it, 503 with Retry-After.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    max_concurrent_handlers: Option<usize>,
    /// Largest incoming request body (default 10MiB): 413.
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    max_incoming_body: Option<String>,
    /// Largest incoming request head (default 64KiB): 431.
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    max_header_size: Option<String>,
    /// On SIGINT/SIGTERM, wait this long for in-flight requests (default 25s).
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    shutdown_timeout: Option<String>,
    /// Append one JSON object per incoming request to FILE.
    #[arg(long, value_name = "FILE")]
    access_log: Option<PathBuf>,
    /// The handler: a component exporting wasi:http/incoming-handler, or a wasip1
    /// core module served through CGI.
    #[arg(value_name = "FILE.wasm")]
    guest: PathBuf,
}

struct Plan {
    shared: GuestPlan,
    config: ServeConfig,
    access_log: Option<PathBuf>,
}

impl ServeCommand {
    pub(crate) fn execute(self) -> ExitCode {
        let file = self.guest.clone();
        // Every flag is validated before anything is bound.
        let plan = match self
            .flags
            .config_file()
            .and_then(|mut f| self.plan_with(&mut f))
        {
            Ok(p) => p,
            Err(msg) => {
                eprintln!("error: {msg}");
                return ExitCode::from(ExitCodeKind::Usage.code());
            }
        };
        if let Err(code) = check_guest_file(&file) {
            return code;
        }
        // Many threads: handlers of concurrent requests run in parallel.
        let runtime = match start_runtime(tokio::runtime::Builder::new_multi_thread()) {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        let code = runtime.block_on(serve(plan, file));
        // Handlers still running after the drain are dropped with the runtime.
        runtime.shutdown_background();
        code
    }

    fn plan_with(self, file: &mut ConfigFile) -> Result<Plan, String> {
        let s = std::mem::take(&mut file.serve);
        let shared = self.flags.plan_with(file)?;
        let ServeSection {
            addr,
            tls_cert,
            tls_key,
            metrics_addr,
            request_timeout,
            max_concurrent_handlers,
            max_incoming_body,
            max_header_size,
            shutdown_timeout,
            access_log,
        } = s;
        let addr = parse_addr(
            "--addr",
            self.addr
                .as_deref()
                .or(addr.as_deref())
                .unwrap_or(DEFAULT_ADDR),
        )?;
        let metrics_addr = self
            .metrics_addr
            .as_deref()
            .or(metrics_addr.as_deref())
            .map(|a| parse_addr("--metrics-addr", a))
            .transpose()?;
        let tls = match (self.tls_cert.or(tls_cert), self.tls_key.or(tls_key)) {
            (Some(cert), Some(key)) => Some(ServerTlsFiles { cert, key }),
            (None, None) => None,
            _ => {
                return Err(
                    "TLS needs both --tls-cert and --tls-key (or tls_cert and tls_key in [serve])"
                        .into(),
                );
            }
        };
        let mut limits = ServeLimits::default();
        let dur = |flag: &str, v: Option<String>| -> Result<Option<std::time::Duration>, String> {
            v.map(|v| parse_duration(&v).map_err(|e| format!("{flag}: {e}")))
                .transpose()
        };
        if let Some(d) = dur(
            "--request-timeout",
            self.request_timeout.or(request_timeout),
        )? {
            limits.request_timeout = d;
        }
        if let Some(d) = dur(
            "--shutdown-timeout",
            self.shutdown_timeout.or(shutdown_timeout),
        )? {
            limits.shutdown_timeout = d;
        }
        if let Some(n) = self.max_concurrent_handlers.or(max_concurrent_handlers) {
            if n == 0 {
                return Err(
                    "--max-concurrent-handlers 0 would refuse every request; expected at least 1"
                        .into(),
                );
            }
            limits.max_concurrent_handlers = n;
        }
        if let Some(v) = self.max_incoming_body.or(max_incoming_body) {
            limits.max_incoming_body =
                parse_size(&v).map_err(|e| format!("--max-incoming-body: {e}"))?;
        }
        if let Some(v) = self.max_header_size.or(max_header_size) {
            let n = parse_size(&v).map_err(|e| format!("--max-header-size: {e}"))?;
            limits.max_header_size = usize::try_from(n).unwrap_or(usize::MAX);
        }
        let program_name = self
            .guest
            .file_name()
            .map_or_else(|| "main.wasm".into(), |n| n.to_string_lossy().into_owned());
        let config = ServeConfig {
            addr,
            tls,
            metrics_addr,
            limits,
            guest: GuestConfig {
                program_name,
                args: Vec::new(),
                env: shared.env.clone(),
                dirs: shared.dirs.clone(),
                timeout: None,
                max_memory: shared.max_memory,
                stdio: Stdio::Inherit,
            },
            access_sinks: Vec::new(),
        };
        Ok(Plan {
            shared,
            config,
            access_log: self.access_log.or(access_log),
        })
    }
}

fn parse_addr(flag: &str, text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| {
        format!(
            "invalid {flag} {text:?}: expected IP:PORT, e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080"
        )
    })
}

async fn serve(mut plan: Plan, file: PathBuf) -> ExitCode {
    // An instance per request: Wasmtime's pooling allocator, with slots for as many as
    // may run at once (S1 in docs/benchmarks.md: hello 1.3-2x the req/s without it).
    let pooling = wasmgate::PoolingSize {
        instances: u32::try_from(plan.config.limits.max_concurrent_handlers).unwrap_or(u32::MAX),
        max_memory: plan.config.guest.max_memory,
    };
    let built = match plan.shared.runner(|b| b.pooling(pooling)) {
        Ok(b) => b,
        Err(kind) => return ExitCode::from(kind.code()),
    };
    let mut config = plan.config;
    config.access_sinks.push(Arc::new(AccessPrinter {
        verbose: plan.shared.verbose,
    }));
    let mut access = None;
    if let Some(path) = &plan.access_log {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            Ok(f) => {
                let log = Arc::new(JsonlAccessLog::new(f));
                access = Some(log.clone());
                config.access_sinks.push(log);
            }
            Err(e) => {
                eprintln!("error: cannot open access log {}: {e}", path.display());
                return ExitCode::from(ExitCodeKind::Usage.code());
            }
        }
    }
    let server = match Server::bind(built.runner, &file, config.clone()).await {
        Ok(s) => s,
        Err(e) => {
            print_error(&e);
            let kind = match e.kind() {
                ErrorKind::Config | ErrorKind::Listen => ExitCodeKind::Usage,
                _ => ExitCodeKind::Load,
            };
            if matches!(e.kind(), ErrorKind::Load | ErrorKind::Link) {
                super::doctor::hint(&file, false);
            }
            return ExitCode::from(kind.code());
        }
    };
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let kind = if server.is_cgi() {
        "a CGI core module"
    } else {
        "a wasi:http component"
    };
    let metrics = server
        .metrics_addr()
        .map(|a| format!("; metrics on http://{a}/metrics, readiness on http://{a}{READY_PATH}"))
        .unwrap_or_default();
    eprintln!(
        "wasmgate: serving {} ({kind}) on {scheme}://{}{metrics}",
        file.display(),
        server.local_addr()
    );
    let shutdown_timeout = config.limits.shutdown_timeout;
    let summary = match server.run(shutdown_signal(shutdown_timeout)).await {
        Ok(s) => s,
        Err(e) => {
            print_error(&e);
            return ExitCode::from(ExitCodeKind::Usage.code());
        }
    };
    if summary.abandoned_connections > 0 {
        eprintln!(
            "wasmgate: {} connections were still busy after the --shutdown-timeout of {}; they were closed",
            summary.abandoned_connections,
            wasmgate_policy::format_duration(shutdown_timeout)
        );
    }
    eprintln!("wasmgate: stopped after {} requests", summary.requests);
    plan.shared.check_audit(built.audit.as_deref());
    if let (Some(log), Some(path)) = (&access, &plan.access_log)
        && let Some(e) = log.write_error()
    {
        eprintln!(
            "wasmgate: warning: the access log {} is incomplete: {e}",
            path.display()
        );
    }
    ExitCode::SUCCESS
}

/// Completes on SIGINT or SIGTERM, saying so.
async fn shutdown_signal(timeout: std::time::Duration) {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    let name = tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        () = term => "SIGTERM",
    };
    eprintln!(
        "wasmgate: {name}: no longer accepting connections; finishing in-flight requests (up to {})",
        wasmgate_policy::format_duration(timeout)
    );
}

/// Prints one line per failed request always, and one per request with `-v`.
struct AccessPrinter {
    verbose: bool,
}

impl AccessSink for AccessPrinter {
    fn on_access(&self, r: &AccessRecord) {
        let head = format!(
            "wasmgate: {} -> {}, {} B, {} ms, {} outbound",
            r.label(),
            r.status,
            r.bytes,
            r.duration.as_millis(),
            r.outbound
        );
        let line = match (&r.error, self.verbose) {
            (Some(e), _) => format!("{head}: {e}\n"),
            (None, true) => format!("{head}\n"),
            (None, false) => return,
        };
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}
