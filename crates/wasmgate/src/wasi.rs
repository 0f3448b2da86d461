//! What of the host a guest may see: arguments, environment, preopened directories and
//! stdio. Nothing else (no host env, no files, no sockets) unless granted here.

use crate::{Error, ErrorKind};
use bytes::Bytes;
use std::path::PathBuf;
use std::time::Duration;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// Default guest memory cap. Generous for real programs (Go and Python runtimes grow
/// well past 100 MiB) while keeping a runaway guest from taking the machine.
pub const DEFAULT_MAX_MEMORY: u64 = 1024 * 1024 * 1024;

/// Captured output is kept up to this size per stream; enough for any test or report,
/// bounded so a chatty guest cannot exhaust host memory.
const CAPTURE_LIMIT: usize = 16 * 1024 * 1024;

/// A host directory made visible to the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    /// Directory on the host.
    pub host: PathBuf,
    /// Path the guest sees it under.
    pub guest: String,
}

impl DirGrant {
    /// Parses `HOST_DIR[::GUEST_DIR]` (Wasmtime's `--dir` syntax); the guest path
    /// defaults to the host path.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let (host, guest) = match s.split_once("::") {
            Some((h, g)) => (h, g),
            None => (s, s),
        };
        if host.is_empty() || guest.is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "invalid directory grant {s:?}: expected HOST_DIR[::GUEST_DIR], e.g. --dir ./data::/data"
                ),
            ));
        }
        Ok(Self {
            host: PathBuf::from(host),
            guest: guest.to_string(),
        })
    }
}

/// Where the guest's stdio goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stdio {
    /// The host process's stdin, stdout and stderr.
    #[default]
    Inherit,
    /// stdout and stderr are captured into the [`crate::RunOutcome`]; stdin is empty.
    Capture,
}

/// Everything about one run of one guest, apart from the network policy.
#[derive(Debug, Clone)]
pub struct GuestConfig {
    /// `argv[0]` as the guest sees it (Wasmtime uses the file name).
    pub program_name: String,
    /// Arguments after `argv[0]`.
    pub args: Vec<String>,
    /// Environment variables; the host's own environment is never inherited.
    pub env: Vec<(String, String)>,
    /// Preopened directories.
    pub dirs: Vec<DirGrant>,
    /// Wall-clock limit for the whole run.
    pub timeout: Option<Duration>,
    /// Linear-memory cap in bytes.
    pub max_memory: u64,
    /// Stdio handling.
    pub stdio: Stdio,
}

impl Default for GuestConfig {
    fn default() -> Self {
        Self {
            program_name: "main.wasm".into(),
            args: Vec::new(),
            env: Vec::new(),
            dirs: Vec::new(),
            timeout: None,
            max_memory: DEFAULT_MAX_MEMORY,
            stdio: Stdio::Inherit,
        }
    }
}

/// Captured stdout/stderr pipes, if capturing.
pub(crate) struct Captured {
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl Captured {
    pub(crate) fn contents(&self) -> (Bytes, Bytes) {
        (self.stdout.contents(), self.stderr.contents())
    }
}

/// A WASI context builder holding exactly what `config` grants.
pub(crate) fn builder(config: &GuestConfig) -> Result<(WasiCtxBuilder, Option<Captured>), Error> {
    let mut b = WasiCtxBuilder::new();
    b.arg(&config.program_name);
    b.args(&config.args);
    b.envs(&config.env);
    for dir in &config.dirs {
        if !dir.host.is_dir() {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "--dir {}: {} is not a directory on the host",
                    dir.host.display(),
                    dir.host.display()
                ),
            ));
        }
        b.preopened_dir(&dir.host, &dir.guest, FsPerms::ReadWrite)
            .map_err(|e| {
                Error::new(
                    ErrorKind::Config,
                    format!("cannot open directory {} for the guest", dir.host.display()),
                )
                .with_source(crate::error::wasmtime_cause(e))
            })?;
    }
    let captured = match config.stdio {
        Stdio::Inherit => {
            b.inherit_stdio();
            None
        }
        Stdio::Capture => {
            let c = Captured {
                stdout: MemoryOutputPipe::new(CAPTURE_LIMIT),
                stderr: MemoryOutputPipe::new(CAPTURE_LIMIT),
            };
            b.stdout(c.stdout.clone());
            b.stderr(c.stderr.clone());
            Some(c)
        }
    };
    Ok((b, captured))
}
