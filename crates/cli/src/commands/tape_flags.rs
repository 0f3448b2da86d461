//! `--record` / `--replay` and their options, shared by `run` and `serve` (flattened into
//! [`super::guest_flags::GuestFlags`]); see docs/record-replay.md.

use crate::config::{RecordSection, ReplaySection};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use wasmgate::{Error, RecordOptions, Recorder, Replay, ReplayMissing, RunnerBuilder};
use wasmgate_policy::parse_size;

/// Flags for recording guest requests to a HAR file and replaying them.
#[derive(Args)]
pub(crate) struct TapeFlags {
    /// Record every request the guest makes (allowed, denied or failed) to FILE.har
    /// (HAR 1.2, opens in browser devtools). Replaces FILE unless it is also --replay's.
    #[arg(long, value_name = "FILE.har")]
    record: Option<PathBuf>,
    /// Bytes kept of each recorded request and response body (default 1MiB); the rest
    /// streams on unrecorded and the entry is marked truncated.
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    record_max_body: Option<String>,
    /// Record this header's value as `[redacted by wasmgate]` (repeatable; authorization,
    /// proxy-authorization, cookie and set-cookie always are, unless --record-secrets).
    #[arg(long = "redact-header", value_name = "NAME")]
    redact_header: Vec<String>,
    /// Record authorization, proxy-authorization, cookie and set-cookie as they are.
    #[arg(long)]
    record_secrets: bool,
    /// Answer the guest's requests from FILE.har (written by --record or a browser) after
    /// the policy allows them: no DNS, no connection.
    #[arg(long, value_name = "FILE.har")]
    replay: Option<PathBuf>,
    /// What an unrecorded request gets under --replay: `fail` (an error for the guest) or
    /// `network` (sent under the policy, and recorded with --record). Default: fail.
    #[arg(long, value_name = "WHAT", value_enum)]
    replay_missing: Option<Missing>,
}

/// `--replay-missing` values.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Missing {
    /// The request fails for the guest.
    Fail,
    /// The request goes to the network under the policy.
    Network,
}

/// Recording and replay, validated; the files are opened when the runner is built.
#[derive(Default)]
pub(crate) struct TapePlan {
    record: Option<(PathBuf, RecordOptions)>,
    replay: Option<(PathBuf, ReplayMissing)>,
    recorder: Option<(PathBuf, Recorder)>,
}

impl TapeFlags {
    /// Validates the flags over the config file's `[record]` and `[replay]`.
    pub(crate) fn plan_with(
        self,
        record: &mut RecordSection,
        replay: &mut ReplaySection,
    ) -> Result<TapePlan, String> {
        let max_body = match self
            .record_max_body
            .as_deref()
            .or(record.max_body.as_deref())
        {
            Some(s) => parse_size(s).map_err(|e| format!("--record-max-body: {e}"))?,
            None => wasmgate::DEFAULT_RECORD_MAX_BODY,
        };
        let mut redact = std::mem::take(&mut record.redact_headers);
        redact.extend(self.redact_header);
        let options = RecordOptions {
            max_body,
            redact,
            keep_secrets: self.record_secrets || record.keep_secrets.unwrap_or(false),
        };
        let missing = match self.replay_missing {
            Some(Missing::Fail) => ReplayMissing::Fail,
            Some(Missing::Network) => ReplayMissing::Network,
            None => match replay.missing.as_deref() {
                None | Some("fail") => ReplayMissing::Fail,
                Some("network") => ReplayMissing::Network,
                Some(other) => {
                    return Err(format!(
                        "[replay] missing = {other:?}: expected \"fail\" or \"network\""
                    ));
                }
            },
        };
        let replay_path = self.replay.or(replay.file.take());
        if replay_path.is_none() && self.replay_missing.is_some() {
            return Err("--replay-missing needs --replay FILE.har".into());
        }
        Ok(TapePlan {
            record: self.record.or(record.file.take()).map(|p| (p, options)),
            replay: replay_path.map(|p| (p, missing)),
            recorder: None,
        })
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

impl TapePlan {
    /// Loads the replay file, creates the recording and gives both to the runner.
    pub(crate) fn apply(&mut self, mut builder: RunnerBuilder) -> Result<RunnerBuilder, Error> {
        let replay = match self.replay.take() {
            Some((path, missing)) => Some((path.clone(), Replay::load(&path)?.missing(missing))),
            None => None,
        };
        if let Some((path, options)) = self.record.take() {
            // Recording into the file being replayed adds to it instead of replacing it.
            let recorder = match &replay {
                Some((from, replay)) if same_file(from, &path) => {
                    Recorder::continuing(&path, options, replay)?
                }
                _ => Recorder::create(&path, options)?,
            };
            builder = builder.record(recorder.clone());
            self.recorder = Some((path, recorder));
        }
        if let Some((_, replay)) = replay {
            builder = builder.replay(replay);
        }
        Ok(builder)
    }

    /// Warns when the recording lost entries.
    pub(crate) fn check(&self) {
        if let Some((path, recorder)) = &self.recorder
            && let Some(e) = recorder.write_error()
        {
            eprintln!(
                "wasmgate: warning: the recording {} is incomplete: {e}",
                path.display()
            );
        }
    }
}
