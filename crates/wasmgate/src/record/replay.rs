//! Replaying a HAR file: the recorded entries indexed by method and URL, handed out in
//! recorded order, with the request body deciding between entries that share both.
//!
//! # Matching
//!
//! 1. Method (exactly, case kept) and full URL (scheme, host, port, path and query, in
//!    the canonical form the policy checks: default ports dropped, host lower-cased)
//!    must be equal.
//! 2. Among the entries left for that method and URL, when their recorded request bodies
//!    differ, the first whose body equals the guest's is taken (a body recorded truncated
//!    matches a guest body that starts with it); when none equals it, the first left.
//! 3. Each entry is used once: identical requests get their entries in recorded order. A
//!    request with no entry left is unmatched.
//!
//! Entries without a response are not replayed, except failures of the network itself
//! (DNS, refused connection, TLS, protocol), which fail again the same way: a denied
//! request is the policy's business (it runs first on replay too), a cancelled one never
//! ended.

use super::capture::decode;
use super::har::{Entry, Har};
use crate::outbound::OutboundErrorKind;
use crate::{Error, ErrorKind};
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use wasmgate_policy::RequestTarget;

/// Largest HAR file `--replay` reads: the whole file is parsed into memory, so a
/// mistaken path (a disk image, a log) must not take the host down. Recordings keep at
/// most `--record-max-body` per body, so real ones stay far below this.
pub const MAX_REPLAY_FILE: u64 = 512 * 1024 * 1024;

/// What to do with a request that has no recorded entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplayMissing {
    /// Fail it for the guest (error kind `not-recorded`) and name it on stderr.
    #[default]
    Fail,
    /// Send it to the network, under the policy (and record it, when recording).
    Network,
}

/// A recorded outcome to hand back.
#[derive(Debug)]
pub(crate) enum Outcome {
    Response {
        status: u16,
        headers: http::HeaderMap,
        body: Bytes,
    },
    Error {
        kind: OutboundErrorKind,
        message: String,
    },
}

#[derive(Debug)]
struct Recorded {
    /// Position in the file's `entries`, from 0.
    index: usize,
    method: String,
    url: String,
    body: Vec<u8>,
    body_truncated: bool,
    outcome: std::sync::Arc<Outcome>,
}

/// A loaded HAR file to answer guest requests from. Build one with [`Replay::load`]
/// and give it to [`crate::RunnerBuilder::replay`].
pub struct Replay {
    path: PathBuf,
    recorded: Vec<Recorded>,
    /// What is left per (method, URL): indexes into `recorded`, in order.
    left: Mutex<HashMap<(String, String), VecDeque<usize>>>,
    missing: ReplayMissing,
    /// The file's entries as read, for a recording that continues the same file.
    pub(crate) entries: Vec<Entry>,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay")
            .field("path", &self.path)
            .field("entries", &self.recorded.len())
            .field("missing", &self.missing)
            .finish()
    }
}

impl Replay {
    /// Reads and indexes a HAR file. Errors name the file and, for a bad entry, its
    /// position.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let name = path.display();
        let bad = |msg: String| Error::new(ErrorKind::Config, format!("--replay {name}: {msg}"));
        let size = std::fs::metadata(path)
            .map_err(|e| bad(format!("cannot read it: {e}")))?
            .len();
        if size > MAX_REPLAY_FILE {
            return Err(bad(format!(
                "it is {size} bytes, more than the {MAX_REPLAY_FILE} a replay file may have; \
                 record with a smaller --record-max-body"
            )));
        }
        let text = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        let har: Har = serde_json::from_slice(&text).map_err(|e| {
            bad(format!(
                "not a HAR file ({e}); expected the JSON a --record run or a browser's \
                 \"Save all as HAR\" writes"
            ))
        })?;
        let mut recorded = Vec::new();
        let mut left: HashMap<(String, String), VecDeque<usize>> = HashMap::new();
        for (index, entry) in har.log.entries.iter().enumerate() {
            let Some(outcome) = outcome(entry).map_err(|e| bad(format!("entry {index}: {e}")))?
            else {
                continue;
            };
            let (body, body_truncated) = match &entry.request.post_data {
                Some(p) => (
                    decode(&p.text, p.encoding.as_deref())
                        .map_err(|e| bad(format!("entry {index}: request body: {e}")))?,
                    p.truncated,
                ),
                None => (Vec::new(), false),
            };
            let method = entry.request.method.clone();
            let url = canonical(&method, &entry.request.url);
            left.entry((method.clone(), url.clone()))
                .or_default()
                .push_back(recorded.len());
            recorded.push(Recorded {
                index,
                method,
                url,
                body,
                body_truncated,
                outcome: std::sync::Arc::new(outcome),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            recorded,
            left: Mutex::new(left),
            missing: ReplayMissing::Fail,
            entries: har.log.entries,
        })
    }

    /// What to do with requests that have no entry (default [`ReplayMissing::Fail`]).
    pub fn missing(mut self, missing: ReplayMissing) -> Self {
        self.missing = missing;
        self
    }

    /// The file replayed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Entries that can answer a request.
    pub fn replayable(&self) -> usize {
        self.recorded.len()
    }

    pub(crate) fn on_missing(&self) -> ReplayMissing {
        self.missing
    }

    /// How many bytes of the guest's body decide the match, or `None` when the body
    /// does not matter (one entry left, or all left have the same body).
    pub(crate) fn body_needed(&self, method: &str, url: &str) -> Option<usize> {
        let left = self.lock();
        let queue = left.get(&(method.to_string(), url.to_string()))?;
        let first = &self.recorded[*queue.front()?];
        let differ = queue.iter().any(|&i| {
            let r = &self.recorded[i];
            r.body != first.body || r.body_truncated != first.body_truncated
        });
        // One byte more than the longest recorded body tells a longer guest body apart.
        differ.then(|| {
            queue
                .iter()
                .map(|&i| self.recorded[i].body.len())
                .max()
                .unwrap_or(0)
                + 1
        })
    }

    /// Takes the entry for this request, or says why there is none (naming the nearest
    /// recorded entry).
    pub(crate) fn take(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
    ) -> Result<std::sync::Arc<Outcome>, String> {
        let mut left = self.lock();
        let key = (method.to_string(), url.to_string());
        if let Some(queue) = left.get_mut(&key)
            && !queue.is_empty()
        {
            let pos = body
                .and_then(|b| {
                    queue.iter().position(|&i| {
                        let r = &self.recorded[i];
                        if r.body_truncated {
                            b.starts_with(&r.body)
                        } else {
                            b == r.body.as_slice()
                        }
                    })
                })
                .unwrap_or(0);
            let i = queue.remove(pos).expect("a position in the queue");
            return Ok(self.recorded[i].outcome.clone());
        }
        drop(left);
        Err(self.unmatched(method, url))
    }

    fn unmatched(&self, method: &str, url: &str) -> String {
        let file = self.path.display();
        let same = self
            .recorded
            .iter()
            .filter(|r| r.method == method && r.url == url)
            .count();
        if same > 0 {
            return format!(
                "all {same} entries recorded for it in {file} were already replayed \
                 (each is used once); record the run again with --record, or let it \
                 through with --replay-missing=network"
            );
        }
        let nearest = self
            .recorded
            .iter()
            .max_by_key(|r| (common_prefix(&r.url, url), r.method == method))
            .map(|r| {
                format!(
                    "; nearest recorded: {} {} (entry {})",
                    r.method, r.url, r.index
                )
            })
            .unwrap_or_else(|| "; it has no replayable entries".into());
        format!(
            "no entry in {file} has this method and URL{nearest}; record the run again with \
             --record, or let it through with --replay-missing=network"
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), VecDeque<usize>>> {
        self.left.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

/// The URL as the outbound client writes it, so `HTTP://Host:80/x` finds `http://host/x`.
fn canonical(method: &str, url: &str) -> String {
    match RequestTarget::parse(method, url) {
        Ok(t) => t.url_with(&t.authority()),
        Err(_) => url.to_string(),
    }
}

/// What an entry replays as, or `None` for entries that are not replayed.
fn outcome(entry: &Entry) -> Result<Option<Outcome>, String> {
    let denied = entry
        .wasmgate
        .as_ref()
        .is_some_and(|w| w.decision == "denied");
    if denied {
        return Ok(None);
    }
    let r = &entry.response;
    if r.status == 0 {
        let kind = entry
            .wasmgate
            .as_ref()
            .and_then(|w| w.error_kind.as_deref())
            .and_then(|k| match k {
                "dns" => Some(OutboundErrorKind::Dns),
                "connection-refused" => Some(OutboundErrorKind::ConnectionRefused),
                "tls" => Some(OutboundErrorKind::Tls),
                "protocol" => Some(OutboundErrorKind::Protocol),
                _ => None,
            });
        return Ok(kind.map(|kind| Outcome::Error {
            kind,
            message: r
                .error
                .clone()
                .unwrap_or_else(|| format!("recorded as failed ({})", kind.as_str())),
        }));
    }
    if http::StatusCode::from_u16(r.status).is_err() {
        return Err(format!(
            "response status {} is not an HTTP status; expected 100 to 999",
            r.status
        ));
    }
    let mut headers = http::HeaderMap::new();
    for h in &r.headers {
        let name = http::HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| format!("response header name {:?} is not valid", h.name))?;
        let value = http::HeaderValue::from_str(&h.value)
            .map_err(|_| format!("response header {:?} has an invalid value", h.name))?;
        headers.append(name, value);
    }
    let c = &r.content;
    let body = match &c.text {
        Some(text) => {
            decode(text, c.encoding.as_deref()).map_err(|e| format!("response body: {e}"))?
        }
        None => Vec::new(),
    };
    // A body kept only in part no longer has the recorded length.
    if c.truncated || (c.size >= 0 && body.len() as i64 != c.size) {
        headers.remove(http::header::CONTENT_LENGTH);
    }
    Ok(Some(Outcome::Response {
        status: r.status,
        headers,
        body: Bytes::from(body),
    }))
}
