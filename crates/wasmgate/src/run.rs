//! Running one guest: load, tell its kind, link WASI (+ wasi:http for components),
//! apply memory and time limits, and report how it ended.

use crate::abi::CoreState;
use crate::cache::{CacheOutcome, Compiled, ModuleCache};
use crate::component::{ComponentState, PolicyHooks, shadow_handle, shadow_http_error_code};
use crate::engine::{EpochTicker, deadline_ticks};
use crate::events::{Cancellation, EventHub, EventSink};
use crate::kind::{WasmKind, detect};
use crate::outbound::{OutboundClient, Resolve, SystemResolver};
use crate::tls::{TlsConfig, TlsEntry, TlsSettings};
use crate::wasi::{Captured, GuestConfig};
use crate::{Error, ErrorKind};
use bytes::Bytes;
use std::path::Path;
use std::sync::Arc;
use wasmgate_policy::{Policy, format_duration, format_size};
use wasmtime::component::{Component, Linker as ComponentLinker, ResourceTable};
use wasmtime::{Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::bindings::Command;
use wasmtime_wasi_http::WasiHttpCtx;

/// How a guest's run ended.
#[derive(Debug)]
pub struct RunOutcome {
    /// `Ok(code)` when the guest returned or called `exit`; `Err` for a trap or timeout
    /// (kinds [`ErrorKind::Trap`], [`ErrorKind::Timeout`]).
    pub status: Result<i32, Error>,
    /// Whether the compiled code came from the cache.
    pub cache: CacheOutcome,
    /// Captured stdout (with [`crate::Stdio::Capture`]).
    pub stdout: Bytes,
    /// Captured stderr (with [`crate::Stdio::Capture`]).
    pub stderr: Bytes,
}

/// Runs guests under one policy. Build one with [`Runner::builder`]; reuse it for many runs.
pub struct Runner {
    engine: Engine,
    _ticker: EpochTicker,
    policy: Arc<Policy>,
    resolver: Arc<dyn Resolve>,
    tls: TlsConfig,
    events: EventHub,
    cache: Option<ModuleCache>,
    slow_compile: Option<SlowCompileNotice>,
    tape: crate::record::Tape,
    egress: Arc<crate::egress::Egress>,
}

/// Called with the guest's name when compiling it takes longer than
/// [`SLOW_COMPILE_AFTER`] (so a user knows why the first run is slow).
pub type SlowCompileNotice = Arc<dyn Fn(&str) + Send + Sync>;

/// A compile still running after this long gets the notice; shorter ones go unmentioned.
pub const SLOW_COMPILE_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// Configures a [`Runner`].
pub struct RunnerBuilder {
    policy: Policy,
    resolver: Arc<dyn Resolve>,
    ca_files: Vec<std::path::PathBuf>,
    ca_system: bool,
    tls_entries: Vec<TlsEntry>,
    events: EventHub,
    cache_dir: Option<std::path::PathBuf>,
    cache_max_size: u64,
    slow_compile: Option<SlowCompileNotice>,
    tape: crate::record::Tape,
    pooling: Option<crate::engine::PoolingSize>,
    egress: crate::egress::Egress,
}

impl Runner {
    /// A builder with a deny-everything policy, the system resolver and web roots.
    pub fn builder() -> RunnerBuilder {
        RunnerBuilder {
            policy: Policy::deny_all(),
            resolver: Arc::new(SystemResolver),
            ca_files: Vec::new(),
            ca_system: false,
            tls_entries: Vec::new(),
            events: EventHub::default(),
            cache_dir: None,
            cache_max_size: crate::cache::DEFAULT_CACHE_MAX_SIZE,
            slow_compile: None,
            tape: crate::record::Tape::default(),
            pooling: None,
            egress: Default::default(),
        }
    }

    /// The policy every request of every run is checked against.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The engine every guest of this runner runs on (one epoch ticker for all).
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The subscribers of this runner's request events.
    pub(crate) fn events(&self) -> &EventHub {
        &self.events
    }

    /// An outbound client under this runner's policy, resolver and TLS roots that
    /// reports to `events` (one per run, or per incoming request under `serve`).
    pub(crate) fn client(&self, events: EventHub) -> OutboundClient {
        OutboundClient::with_settings(
            self.policy.clone(),
            self.resolver.clone(),
            self.tls.clone(),
            self.egress.clone(),
            events,
            self.tape.clone(),
        )
    }

    /// Reads and runs a `.wasm` file.
    pub async fn run_file(&self, path: &Path, config: &GuestConfig) -> Result<RunOutcome, Error> {
        let (bytes, name) = read_guest(path)?;
        self.run_bytes(&bytes, &name, config).await
    }

    /// Runs a guest from memory; `name` is used in messages. Errors are load, link and
    /// configuration problems; how the guest itself ended is in [`RunOutcome::status`].
    pub async fn run_bytes(
        &self,
        bytes: &[u8],
        name: &str,
        config: &GuestConfig,
    ) -> Result<RunOutcome, Error> {
        let kind = detect(bytes, name)?;
        let client = self.client(self.events.for_run());
        let (builder, captured) = crate::wasi::builder(config)?;
        let limits = store_limits(config.max_memory);
        let ticks = deadline_ticks(config.timeout);
        let (compiled, cache) = self.compile(kind, bytes, name)?;
        // The run's hub: what the end of the run cancels is counted there.
        let events = client.events().clone();
        let reporter = client.clone();
        let mut run = Box::pin(async {
            match compiled {
                Compiled::Component(c) => {
                    self.run_component(c, name, builder, client, limits, ticks)
                        .await
                }
                Compiled::Module(m) => self.run_core(m, name, builder, client, limits, ticks).await,
            }
        });
        let status = match config.timeout {
            // The epoch deadline stops guests spinning in wasm; this stops guests blocked
            // in the host (waiting on a slow server).
            Some(t) => match tokio::time::timeout(t, run.as_mut()).await {
                Ok(r) => r,
                Err(_) => {
                    // Before the store goes: what is still open was cancelled by this.
                    events.end_run(Cancellation::TimedOut);
                    Ok(Err(timeout_error(t)))
                }
            },
            None => run.as_mut().await,
        };
        drop(run);
        // The store is gone: requests still open were dropped with it. Their events
        // come from the runtime's tasks as they wind down; wait for them.
        reporter.wait_reported(EVENTS_DRAIN_MAX).await;
        events.report_run_end();
        // A memory larger than --max-memory at instantiation is the memory limit, not
        // a missing import: report it as the run-time growth case is.
        let status = match status {
            Err(e) if e.kind() == ErrorKind::Link => match hit_memory_cap(&e) {
                Some(needed) => Ok(Err(memory_at_start(needed, config))),
                None => Err(e),
            },
            other => other,
        }?;
        let status = status.map_err(|e| refine(e, config));
        let (stdout, stderr) = captured
            .as_ref()
            .map(Captured::contents)
            .unwrap_or_default();
        Ok(RunOutcome {
            status,
            cache,
            stdout,
            stderr,
        })
    }

    /// Compiles the guest, through the cache when there is one.
    pub(crate) fn compile(
        &self,
        kind: WasmKind,
        bytes: &[u8],
        name: &str,
    ) -> Result<(Compiled, CacheOutcome), Error> {
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        if let Some(notice) = self.slow_compile.clone() {
            let (done, name) = (done.clone(), name.to_string());
            std::thread::spawn(move || {
                std::thread::sleep(SLOW_COMPILE_AFTER);
                if !done.load(std::sync::atomic::Ordering::SeqCst) {
                    notice(&name);
                }
            });
        }
        let result = match &self.cache {
            Some(cache) => cache.load_or_compile(&self.engine, kind, bytes),
            None => match kind {
                WasmKind::Component => Component::new(&self.engine, bytes).map(Compiled::Component),
                WasmKind::CoreModule => Module::new(&self.engine, bytes).map(Compiled::Module),
            }
            .map(|c| (c, CacheOutcome::Disabled)),
        };
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        result.map_err(|e| load_error(name, e))
    }

    async fn run_component(
        &self,
        component: Component,
        name: &str,
        builder: wasmtime_wasi::WasiCtxBuilder,
        client: OutboundClient,
        limits: StoreLimits,
        ticks: u64,
    ) -> Result<Result<i32, Error>, Error> {
        let linker = component_linker(&self.engine)?;
        let mut store = component_store(&self.engine, builder, client, limits, ticks);
        let command = Command::instantiate_async(&mut store, &component, &linker)
            .await
            .map_err(|e| link_error(name, e))?;
        let end = match command.wasi_cli_run().call_run(&mut store).await {
            Ok(Ok(())) => Ok(0),
            Ok(Err(())) => Ok(1),
            Err(e) => guest_end(e),
        };
        // Requests still open go with the store: the end of the run cancelled them.
        store.data().hooks.client.events().end_run(run_end(&end));
        Ok(end)
    }

    async fn run_core(
        &self,
        module: Module,
        name: &str,
        mut builder: wasmtime_wasi::WasiCtxBuilder,
        client: OutboundClient,
        limits: StoreLimits,
        ticks: u64,
    ) -> Result<Result<i32, Error>, Error> {
        let mut linker = Linker::<CoreState>::new(&self.engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |s| &mut s.wasi).map_err(internal)?;
        crate::abi::add_to_linker(&mut linker).map_err(internal)?;
        let mut store = Store::new(
            &self.engine,
            CoreState::new(builder.build_p1(), limits, client),
        );
        store.limiter(|s| &mut s.limits);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(ticks);
        let instance = match linker.instantiate_async(&mut store, &module).await {
            Ok(i) => i,
            Err(e) if e.downcast_ref::<wasmtime::Trap>().is_some() => return Ok(guest_end(e)),
            Err(e) => return Err(link_error(name, e)),
        };
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .map_err(|_| {
                Error::new(
                    ErrorKind::Link,
                    format!("{name} has no `_start` export: it is not a WASI command (a library/reactor module cannot be run)"),
                )
            })?;
        let end = match start.call_async(&mut store, ()).await {
            Ok(()) => Ok(0),
            Err(e) => guest_end(e),
        };
        store.data_mut().abi.settle_closed().await;
        store.data().abi.client.events().end_run(run_end(&end));
        store.data_mut().abi.shutdown().await;
        Ok(end)
    }
}

impl RunnerBuilder {
    /// The egress policy (default: deny everything).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }
    /// The resolver for host names (default: the system's). Tests inject a
    /// [`crate::StaticResolver`].
    pub fn resolver(mut self, resolver: Arc<dyn Resolve>) -> Self {
        self.resolver = resolver;
        self
    }
    /// Adds a PEM file of CA certificates to trust besides the web roots.
    pub fn ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.ca_files.push(path.into());
        self
    }
    /// Adds the operating system's trust store to the web roots (`--ca-system`).
    pub fn ca_system(mut self, on: bool) -> Self {
        self.ca_system = on;
        self
    }
    /// Adds per-destination TLS settings (a `[[tls]]` entry); the first entry whose
    /// hosts match a connection's host and port applies to it.
    pub fn tls_entry(mut self, entry: TlsEntry) -> Self {
        self.tls_entries.push(entry);
        self
    }
    /// Subscribes to request events.
    pub fn event_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.events.subscribe(sink);
        self
    }
    /// Keeps compiled code in `dir` (see [`crate::default_cache_dir`]); without this,
    /// every run compiles its guest.
    pub fn cache_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }
    /// Keeps the cache directory at most `bytes` in size by evicting the least
    /// recently used entries (default [`crate::DEFAULT_CACHE_MAX_SIZE`]).
    pub fn cache_max_size(mut self, bytes: u64) -> Self {
        self.cache_max_size = bytes;
        self
    }
    /// Sends requests through an HTTP proxy (default: direct). See docs/egress.md.
    pub fn proxy(mut self, proxy: crate::egress::ProxyConfig) -> Self {
        self.egress.proxy = Some(proxy);
        self
    }
    /// Adds headers to the allowed requests its rule matches; the guest never sees
    /// their values. An earlier injection's header wins over a later one's.
    pub fn inject(mut self, injection: crate::egress::Injection) -> Self {
        self.egress.injections.push(injection);
        self
    }
    /// Calls `notice` when compiling a guest takes longer than [`SLOW_COMPILE_AFTER`].
    pub fn on_slow_compile(mut self, notice: SlowCompileNotice) -> Self {
        self.slow_compile = Some(notice);
        self
    }
    /// Records every guest request of every run (and, under `serve`, of every incoming
    /// request) to a HAR file; see [`crate::record`].
    pub fn record(mut self, recorder: crate::record::Recorder) -> Self {
        self.tape.recorder = Some(recorder);
        self
    }
    /// Answers guest requests from a HAR file instead of the network, after the policy
    /// allowed them; see [`crate::record`].
    pub fn replay(mut self, replay: crate::record::Replay) -> Self {
        self.tape.replay = Some(Arc::new(replay));
        self
    }
    /// Uses Wasmtime's pooling allocator with slots for `size.instances` instances at
    /// once (see [`crate::serve`]): for a server instantiating per request. A runner for
    /// single runs does better without (no up-front reservation).
    pub fn pooling(mut self, size: crate::engine::PoolingSize) -> Self {
        self.pooling = Some(size);
        self
    }
    /// Validates everything and sets up the engine.
    pub fn build(self) -> Result<Runner, Error> {
        let tls = TlsConfig::from_settings(&TlsSettings {
            ca_files: self.ca_files,
            ca_system: self.ca_system,
            entries: self.tls_entries,
        })?;
        let engine = crate::engine::new_engine_with(self.pooling)?;
        let ticker = EpochTicker::start(&engine);
        Ok(Runner {
            engine,
            _ticker: ticker,
            policy: Arc::new(self.policy),
            resolver: self.resolver,
            tls,
            events: self.events,
            cache: self
                .cache_dir
                .map(|dir| ModuleCache::new(dir, self.cache_max_size)),
            slow_compile: self.slow_compile,
            tape: self.tape,
            egress: Arc::new(self.egress),
        })
    }
}

/// Reads a `.wasm` file, checking its header before reading the rest; returns its
/// bytes and its name for messages.
pub(crate) fn read_guest(path: &Path) -> Result<(Vec<u8>, String), Error> {
    let name = path.display().to_string();
    let unreadable =
        |e: std::io::Error| Error::new(ErrorKind::Load, format!("cannot read {name}: {e}"));
    // The header first: a large file that is not WebAssembly is refused without
    // being read whole.
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let mut header = Vec::with_capacity(8);
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut file, 8), &mut header)
        .map_err(unreadable)?;
    detect(&header, &name)?;
    let mut bytes = header;
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(unreadable)?;
    Ok((bytes, name))
}

/// The linker every component gets, under `run` and `serve`: WASI, `wasi:http` with
/// wasmgate's shadowed functions.
pub(crate) fn component_linker(engine: &Engine) -> Result<ComponentLinker<ComponentState>, Error> {
    let mut linker = ComponentLinker::<ComponentState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(internal)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(internal)?;
    // So that a failed body read reports its code (wasi-http 48's version returns none).
    shadow_http_error_code(&mut linker).map_err(internal)?;
    // So that requests wasi-http refuses before the hook are reported too.
    shadow_handle(&mut linker).map_err(internal)?;
    Ok(linker)
}

/// A component's store: its WASI context, `wasi:http` through `client`, the memory
/// cap and the epoch deadline (`ticks` of the engine's one ticker).
pub(crate) fn component_store(
    engine: &Engine,
    mut builder: wasmtime_wasi::WasiCtxBuilder,
    client: OutboundClient,
    limits: StoreLimits,
    ticks: u64,
) -> Store<ComponentState> {
    let state = ComponentState {
        wasi: builder.build(),
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        hooks: PolicyHooks { client },
        limits,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    store.epoch_deadline_trap();
    store.set_epoch_deadline(ticks);
    store
}

/// The store limits for a guest memory cap of `max_memory` bytes: growing past it traps.
pub(crate) fn store_limits(max_memory: u64) -> StoreLimits {
    StoreLimitsBuilder::new()
        .memory_size(usize::try_from(max_memory).unwrap_or(usize::MAX))
        .trap_on_grow_failure(true)
        .build()
}

fn internal(e: wasmtime::Error) -> Error {
    Error::new(ErrorKind::Internal, "cannot link WASI into the guest")
        .with_source(crate::error::wasmtime_cause(e))
}

pub(crate) fn load_error(name: &str, e: wasmtime::Error) -> Error {
    Error::new(
        ErrorKind::Load,
        format!("cannot compile {name}: it is not a valid WebAssembly module or component"),
    )
    .with_source(crate::error::wasmtime_cause(e))
}

pub(crate) fn link_error(name: &str, e: wasmtime::Error) -> Error {
    Error::new(
        ErrorKind::Link,
        format!("cannot start {name}: it imports something wasmgate does not provide (the cause below names it)"),
    )
    .with_source(crate::error::wasmtime_cause(e))
}

fn timeout_error(t: std::time::Duration) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "the guest ran longer than the --timeout of {}; raise it with --timeout",
            format_duration(t)
        ),
    )
}

/// An exit request is a normal end; anything else is a trap.
fn guest_end(e: wasmtime::Error) -> Result<i32, Error> {
    if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Ok(exit.0);
    }
    Err(Error::new(ErrorKind::Trap, "the guest trapped")
        .with_source(crate::error::wasmtime_cause(e)))
}

/// Longest wait at the end of a run for the events of requests that were still open.
/// Dropped tasks report within milliseconds; the bound keeps a stuck one from holding
/// the run.
const EVENTS_DRAIN_MAX: std::time::Duration = std::time::Duration::from_secs(2);

/// The size Wasmtime's store limiter refused (at instantiation or growth), from its
/// message "forcing trap when growing memory to N bytes".
fn hit_memory_cap(e: &Error) -> Option<u64> {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if let Some(rest) = text.split("forcing trap when growing memory to ").nth(1) {
            return rest
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .or(Some(0));
        }
        cause = c.source();
    }
    None
}

fn memory_at_start(needed: u64, config: &GuestConfig) -> Error {
    let needs = if needed > 0 {
        format!(" ({})", format_size(needed))
    } else {
        String::new()
    };
    Error::new(
        ErrorKind::Trap,
        format!(
            "the guest's initial memory{needs} is larger than the --max-memory of {}; raise it with --max-memory",
            format_size(config.max_memory)
        ),
    )
}

/// How the guest's run ended, as the requests it left open see it.
fn run_end(end: &Result<i32, Error>) -> Cancellation {
    match end {
        Err(e) if hit_deadline(e) => Cancellation::TimedOut,
        _ => Cancellation::GuestExited,
    }
}

/// Whether a trap is the epoch deadline (`--timeout` while the guest ran wasm).
pub(crate) fn hit_deadline(e: &Error) -> bool {
    let chain = format!("{:?}", std::error::Error::source(e).map(|s| s.to_string()));
    e.kind() == ErrorKind::Trap && (chain.contains("epoch deadline") || chain.contains("interrupt"))
}

/// Names the limit behind traps that a limit caused.
fn refine(e: Error, config: &GuestConfig) -> Error {
    if e.kind() != ErrorKind::Trap {
        return e;
    }
    let chain = format!("{:?}", std::error::Error::source(&e).map(|s| s.to_string()));
    if chain.contains("forcing trap when growing memory") {
        return Error::new(
            ErrorKind::Trap,
            format!(
                "the guest tried to use more memory than the --max-memory of {}; raise it with --max-memory",
                format_size(config.max_memory)
            ),
        )
        .with_source(e);
    }
    if hit_deadline(&e)
        && let Some(t) = config.timeout
    {
        return timeout_error(t).with_source(e);
    }
    e
}
