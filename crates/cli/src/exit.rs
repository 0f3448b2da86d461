//! Exit codes. Stable: scripts depend on them (documented in README.md "Exit codes").

/// What a wasmgate exit code means. A guest's own exit code passes through unchanged;
/// these are wasmgate's own outcomes, chosen from the range shells already reserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCodeKind {
    /// The run exceeded `--timeout` (124, as `timeout(1)`).
    Timeout,
    /// Bad command line or configuration: invalid rule, unknown config key, unreadable
    /// CA file… (125).
    Usage,
    /// The guest could not be loaded or linked: not wasm, invalid, missing imports (126,
    /// "cannot execute").
    Load,
    /// The guest file does not exist or cannot be read (127, "not found").
    NotFound,
    /// The guest trapped, including exceeding `--max-memory` (134, as an abort).
    Trap,
}

impl ExitCodeKind {
    /// The numeric code.
    pub fn code(self) -> u8 {
        match self {
            Self::Timeout => 124,
            Self::Usage => 125,
            Self::Load => 126,
            Self::NotFound => 127,
            Self::Trap => 134,
        }
    }
}
