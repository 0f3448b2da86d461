//! The library's error: a kind the caller can match on, a message with context, and
//! the underlying cause.

use std::fmt;

/// What went wrong, coarsely; the CLI maps each kind to a stable exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Invalid configuration (rules, limits, files named by options).
    Config,
    /// The guest file could not be read, parsed or compiled.
    Load,
    /// The guest imports something the host does not provide.
    Link,
    /// The guest trapped (including exceeding `--max-memory`).
    Trap,
    /// The run exceeded its `--timeout`.
    Timeout,
    /// `serve` cannot listen on its address (in use, not permitted, not local).
    Listen,
    /// Anything else on the host side.
    Internal,
}

/// A wasmgate error.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error of `kind` with a human message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying cause (printed by the CLI as part of the chain).
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// Wraps a `wasmtime::Error` (an `anyhow`-style chain) as a cause.
pub(crate) fn wasmtime_cause(e: wasmtime::Error) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(WasmtimeCause(format!("{e:#}")))
}

#[derive(Debug)]
struct WasmtimeCause(String);

impl fmt::Display for WasmtimeCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WasmtimeCause {}
