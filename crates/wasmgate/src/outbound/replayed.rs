//! Answering a request from a replay file instead of the network.

use super::OutboundClient;
use super::body::{EventRecord, RequestLabel, Source};
use super::connect::HyperBody;
use super::error::{OutboundError, OutboundErrorKind};
use super::upload::Upload;
use crate::record::{Outcome, Replay, ReplayMissing};
use http_body_util::BodyExt;

impl OutboundClient {
    /// The recorded response for this request, `Ok(None)` to send it to the network
    /// (unmatched, under `--replay-missing=network`), or the error it gets: its recorded
    /// failure, or `not-recorded`.
    ///
    /// When entries differ only by body, the guest's body is read (at most one byte more
    /// than the longest of them) to choose; a request that then still goes to the network
    /// gets its body back whole in `first_body`.
    pub(super) async fn answer_from_replay(
        &self,
        replay: &Replay,
        url: &str,
        upload: &mut Upload,
        label: &RequestLabel,
        record: &mut EventRecord,
        first_body: &mut Option<HyperBody>,
    ) -> Result<Option<http::Response<Source>>, OutboundError> {
        let method = &*label.method;
        let mut body_read = false;
        let body = match replay.body_needed(method, url) {
            Some(limit) => {
                body_read = true;
                Some(read_prefix(upload.first(), limit).await?)
            }
            None => None,
        };
        let outcome = match replay.take(method, url, body.as_deref()) {
            Ok(outcome) => outcome,
            Err(why) => {
                if replay.on_missing() == ReplayMissing::Network {
                    if !body_read {
                        return Ok(None);
                    }
                    if let Some(again) = upload.again() {
                        *first_body = Some(again);
                        return Ok(None);
                    }
                    return Err(OutboundError::other(
                        OutboundErrorKind::NotRecorded,
                        method,
                        url,
                        format!(
                            "{why} (it cannot go to the network: its body was read to match \
                             it and is too large to send again)"
                        ),
                    ));
                }
                return Err(OutboundError::other(
                    OutboundErrorKind::NotRecorded,
                    method,
                    url,
                    why,
                ));
            }
        };
        if let Some(draft) = &mut record.har {
            draft.replayed = true;
        }
        match &*outcome {
            Outcome::Response {
                status,
                headers,
                body,
            } => {
                let mut response =
                    http::Response::new(Source::Replay((!body.is_empty()).then(|| body.clone())));
                *response.status_mut() =
                    http::StatusCode::from_u16(*status).unwrap_or(http::StatusCode::OK);
                *response.headers_mut() = headers.clone();
                Ok(Some(response))
            }
            Outcome::Error { kind, message } => {
                // The recorded text already names the request.
                let prefix = format!("{method} {url} failed: ");
                let message = message.strip_prefix(&prefix).unwrap_or(message);
                Err(OutboundError::other(
                    *kind,
                    method,
                    url,
                    format!("{message} (replayed from {})", replay.path().display()),
                ))
            }
        }
    }
}

/// Reads at most about `limit` bytes of the body (whole frames).
async fn read_prefix(mut body: HyperBody, limit: usize) -> Result<Vec<u8>, OutboundError> {
    let mut got = Vec::new();
    while got.len() < limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    let room = limit - got.len();
                    got.extend_from_slice(&data[..room.min(data.len())]);
                }
            }
            Some(Err(e)) => return Err(e),
            None => break,
        }
    }
    Ok(got)
}
