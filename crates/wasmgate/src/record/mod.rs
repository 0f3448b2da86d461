//! Recording every guest request as a HAR 1.2 file, and replaying such a file offline.
//!
//! Both hook into the outbound client, so they see the requests of both guest kinds
//! (`wasi:http` and the host ABI), under `run` and `serve` alike:
//!
//! - **Recording** ([`Recorder`]) takes the request's head as the guest sent it (before the
//!   host adds anything), copies at most [`RecordOptions::max_body`] bytes of each body
//!   while it streams, and writes one entry when the request is over (allowed, denied or
//!   failed). See `writer` for why the file is valid whenever the run stops.
//! - **Replay** ([`Replay`]) answers requests from a file after the policy has allowed
//!   them and before any DNS lookup or connection (see `replay` for the matching rules).
//!
//! docs/record-replay.md describes the workflow.

mod capture;
pub mod har;
mod replay;
mod writer;

pub(crate) use capture::{Draft, Tap};
pub(crate) use replay::Outcome;
pub use replay::{MAX_REPLAY_FILE, Replay, ReplayMissing};

use crate::{Error, ErrorKind};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use writer::HarWriter;

/// Body bytes kept per request and per response by default. Enough for the JSON, form
/// and text bodies API tests replay, while a guest that downloads gigabytes records
/// 1 MiB of each, so the file and the memory held per request in flight stay small.
pub const DEFAULT_RECORD_MAX_BODY: u64 = 1024 * 1024;

/// What a redacted header's value is recorded as.
pub const REDACTED: &str = "[redacted by wasmgate]";

/// Headers whose values are credentials in almost every API: redacted unless
/// [`RecordOptions::keep_secrets`] is set.
pub const DEFAULT_REDACTED_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// How to record.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// Bytes kept of each request and each response body; the rest streams on
    /// unrecorded and the entry is marked truncated.
    pub max_body: u64,
    /// More header names (any case) to redact, besides [`DEFAULT_REDACTED_HEADERS`].
    pub redact: Vec<String>,
    /// Keeps the values of [`DEFAULT_REDACTED_HEADERS`] (the `redact` list still applies).
    pub keep_secrets: bool,
}

impl Default for RecordOptions {
    fn default() -> Self {
        Self {
            max_body: DEFAULT_RECORD_MAX_BODY,
            redact: Vec::new(),
            keep_secrets: false,
        }
    }
}

/// Writes one HAR entry per guest request. Cheap to clone; give it to
/// [`crate::RunnerBuilder::record`].
///
/// Memory: each request in flight holds at most two copies of `max_body` bytes (request
/// and response); one entry is serialised at a time.
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<HarWriter>,
    options: RecordOptions,
    /// Lower-cased names to redact.
    redacted: Vec<String>,
    written: AtomicU64,
    failure: Mutex<Option<String>>,
}

impl Recorder {
    /// Creates (or replaces) the HAR file at `path`.
    pub fn create(path: &Path, options: RecordOptions) -> Result<Self, Error> {
        Self::open(path, options, &[])
    }

    /// Creates the HAR file at `path` holding the entries of `replay` first, then those
    /// recorded now: how `--replay-missing=network` adds what was missing to the file it
    /// replays.
    pub fn continuing(path: &Path, options: RecordOptions, replay: &Replay) -> Result<Self, Error> {
        Self::open(path, options, &replay.entries)
    }

    fn open(path: &Path, options: RecordOptions, entries: &[har::Entry]) -> Result<Self, Error> {
        if let Some(bad) = (options.redact.iter())
            .find(|name| http::HeaderName::from_bytes(name.as_bytes()).is_err())
        {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "--redact-header {bad:?}: not a header name; expected letters, digits and \
                     `-`, e.g. --redact-header x-api-key"
                ),
            ));
        }
        let writer = HarWriter::create(path, entries).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!(
                    "--record {}: cannot write it: {e}; expected a writable file path",
                    path.display()
                ),
            )
        })?;
        let mut redacted: Vec<String> = options.redact.iter().map(|h| h.to_lowercase()).collect();
        if !options.keep_secrets {
            redacted.extend(DEFAULT_REDACTED_HEADERS.iter().map(|h| h.to_string()));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                options,
                redacted,
                written: AtomicU64::new(0),
                failure: Mutex::new(None),
            }),
        })
    }

    /// Entries written so far.
    pub fn written(&self) -> u64 {
        self.inner.written.load(Ordering::Relaxed)
    }

    /// The first write error, if an entry could not be written: an incomplete recording
    /// must not go unnoticed.
    pub fn write_error(&self) -> Option<String> {
        self.inner
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn write(&self, entry: &har::Entry) {
        let mut w = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        match w.append(entry) {
            Ok(()) => {
                self.inner.written.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                let msg = format!("{}: {e}", w.path().display());
                let mut f = self.inner.failure.lock().unwrap_or_else(|p| p.into_inner());
                f.get_or_insert(msg);
            }
        }
    }

    /// Headers as recorded: in order, redacted ones replaced by [`REDACTED`].
    fn header_list(&self, headers: &http::HeaderMap) -> Vec<har::NameValue> {
        headers
            .iter()
            .map(|(name, value)| {
                let secret = self.inner.redacted.iter().any(|r| r == name.as_str());
                har::NameValue {
                    name: name.as_str().to_string(),
                    value: if secret {
                        REDACTED.to_string()
                    } else {
                        String::from_utf8_lossy(value.as_bytes()).into_owned()
                    },
                }
            })
            .collect()
    }
}

/// What a client records to and replays from.
#[derive(Clone, Default)]
pub(crate) struct Tape {
    pub(crate) recorder: Option<Recorder>,
    pub(crate) replay: Option<Arc<Replay>>,
}
