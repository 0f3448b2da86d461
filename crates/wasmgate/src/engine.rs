//! The Wasmtime engine and the one epoch ticker that enforces run timeouts.

use crate::{Error, ErrorKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use wasmtime::{Config, Engine};

/// Granularity of `--timeout`: the ticker advances the engine's epoch this often. Fine
/// enough for second-scale timeouts, coarse enough that the thread costs nothing.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Epoch deadline for runs without a timeout: far beyond any run's lifetime.
pub(crate) const NO_DEADLINE: u64 = u64::MAX / 4;

/// Environment variable that turns on Wasmtime's perf map (see `new_engine`).
pub const PERFMAP_ENV: &str = "WASMGATE_PERFMAP";

/// How many instances a pooled engine (`serve`) keeps slots for, and how large their
/// memories may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolingSize {
    /// Guest instances alive at once: `serve`'s `--max-concurrent-handlers`.
    pub instances: u32,
    /// Largest linear memory of one instance: `--max-memory`.
    pub max_memory: u64,
}

/// Core instances a pooled engine reserves per handler instance. A wasi:http component
/// built by today's toolchains instantiates a handful (the program, wasi-libc's shims,
/// adapter fix-ups); 16 leaves room for larger ones. Only address space is reserved
/// for them (about 1 MiB of VM context each), no memory until used.
const CORE_INSTANCES_PER_HANDLER: u32 = 16;
/// Linear memories per handler instance: a program's own and one an adapter may add.
/// Each slot is address space of `--max-memory` plus guard, committed only as used.
const MEMORIES_PER_HANDLER: u32 = 2;
/// Tables per handler instance (the program's function table and shims' own).
const TABLES_PER_HANDLER: u32 = 8;

/// Builds the engine every guest of a [`crate::Runner`] runs on (unit tests use it;
/// runners go through [`new_engine_with`]).
#[cfg(test)]
pub(crate) fn new_engine() -> Result<Engine, Error> {
    new_engine_with(None)
}

/// [`new_engine`], with Wasmtime's pooling allocator sized for `pooling` when given:
/// for a server that instantiates per request, it reuses pre-reserved slots instead of
/// mapping and unmapping memories, tables and stacks for every instance.
pub(crate) fn new_engine_with(pooling: Option<PoolingSize>) -> Result<Engine, Error> {
    let mut config = Config::new();
    if let Some(p) = pooling {
        let mut pool = wasmtime::PoolingAllocationConfig::new();
        let n = p.instances.max(1);
        pool.total_component_instances(n)
            .total_core_instances(n.saturating_mul(CORE_INSTANCES_PER_HANDLER))
            .total_memories(n.saturating_mul(MEMORIES_PER_HANDLER))
            .total_tables(n.saturating_mul(TABLES_PER_HANDLER))
            // One fiber stack per handler's store call at a time.
            .total_stacks(n)
            .total_gc_heaps(n)
            .max_memory_size(usize::try_from(p.max_memory).unwrap_or(usize::MAX));
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    }
    config.wasm_component_model(true);
    // Interrupts guests that spin without calling the host; see `EpochTicker`.
    config.epoch_interruption(true);
    // `WASMGATE_PERFMAP=1` names guest functions for `perf` (writes /tmp/perf-PID.map):
    // how the profiles in docs/benchmarks.md were taken.
    if std::env::var_os(PERFMAP_ENV).is_some_and(|v| v == "1") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    Engine::new(&config).map_err(|e| {
        Error::new(ErrorKind::Internal, "cannot set up the WebAssembly engine")
            .with_source(crate::error::wasmtime_cause(e))
    })
}

/// One thread per engine that advances the epoch (a ticker per run or per request
/// costs orders of magnitude in throughput: bytecodealliance/wasmtime#11814).
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub(crate) fn start(engine: &Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let engine = engine.weak();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("wasmgate-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    // Parked rather than slept, so dropping the ticker wakes it at once
                    // instead of making every run's exit wait out a tick.
                    std::thread::park_timeout(EPOCH_TICK);
                    match engine.upgrade() {
                        Some(e) => e.increment_epoch(),
                        None => break,
                    }
                }
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// Epoch ticks for a timeout (at least one).
pub(crate) fn deadline_ticks(timeout: Option<Duration>) -> u64 {
    match timeout {
        None => NO_DEADLINE,
        Some(t) => (t.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64,
    }
}
