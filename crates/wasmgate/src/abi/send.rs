//! The background side of `request_send`: the request body pipe, the client call, and
//! redirects (each hop checked by the policy again).

use super::state::{Building, FRAME_BUFFER, Head, pump};
use crate::events::Origin;
use crate::outbound::{
    OutboundBody, OutboundClient, OutboundError, OutboundErrorKind, OutboundRequest, ResponseBody,
};
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, header};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Empty};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio::sync::{Notify, mpsc, oneshot};

/// The request body as the guest writes it through `body_write`.
struct PipeBody {
    rx: mpsc::Receiver<Bytes>,
    finished: Arc<AtomicBool>,
    notify: Arc<Notify>,
    done: bool,
    label: (String, String),
}

impl Body for PipeBody {
    type Data = Bytes;
    type Error = OutboundError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, OutboundError>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let msg = std::task::ready!(self.rx.poll_recv(cx));
        // Room in the pipe: a guest waiting to write may go on.
        self.notify.notify_one();
        match msg {
            Some(d) => Poll::Ready(Some(Ok(Frame::data(d)))),
            None if self.finished.load(Ordering::SeqCst) => {
                self.done = true;
                Poll::Ready(None)
            }
            None => {
                self.done = true;
                let (m, u) = &self.label;
                Poll::Ready(Some(Err(OutboundError::other(
                    OutboundErrorKind::Protocol,
                    m,
                    u,
                    "the guest closed the request before finishing its body",
                ))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// Creates the body pipe for a streamed upload: the sender, the flag `body_finish`
/// sets before dropping the sender, and the body the client reads.
pub(crate) fn pipe(
    capacity: usize,
    notify: Arc<Notify>,
    label: (String, String),
) -> (mpsc::Sender<Bytes>, Arc<AtomicBool>, OutboundBody) {
    let (tx, rx) = mpsc::channel(capacity);
    let finished = Arc::new(AtomicBool::new(false));
    let body = PipeBody {
        rx,
        finished: finished.clone(),
        notify,
        done: false,
        label,
    };
    (tx, finished, body.boxed_unsync())
}

fn empty() -> OutboundBody {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// Runs one request (and its redirects) and streams the answer into the handle.
pub(crate) async fn run(
    client: OutboundClient,
    req: Building,
    body: Option<OutboundBody>,
    head_tx: oneshot::Sender<Result<Head, OutboundError>>,
    notify: Arc<Notify>,
) {
    let result = follow(&client, req, body).await;
    match result {
        Err(e) => {
            let _ = head_tx.send(Err(e));
            notify.notify_one();
        }
        Ok(response) => {
            let (parts, body) = response.into_parts();
            let (tx, rx) = mpsc::channel(FRAME_BUFFER);
            let head = Head {
                status: parts.status.as_u16(),
                version: parts.version,
                headers: parts.headers,
                frames: rx,
            };
            if head_tx.send(Ok(head)).is_err() {
                return;
            }
            notify.notify_one();
            pump(body, tx, notify).await;
        }
    }
}

async fn follow(
    client: &OutboundClient,
    mut req: Building,
    mut body: Option<OutboundBody>,
) -> Result<http::Response<ResponseBody>, OutboundError> {
    let mut hops = 0;
    loop {
        let streamed = body.is_some();
        let mut request = http::Request::builder()
            .method(req.method.clone())
            .uri(req.url.as_str())
            .body(body.take().unwrap_or_else(empty))
            .map_err(|e| {
                OutboundError::other(
                    OutboundErrorKind::InvalidRequest,
                    req.method.as_str(),
                    &req.url,
                    e.to_string(),
                )
            })?;
        *request.headers_mut() = req.headers.clone();
        let response = client
            .send(OutboundRequest {
                request,
                timeouts: req.timeouts,
                origin: Origin::HostAbi,
            })
            .await?;
        let status = response.status();
        let Some(next) = redirect_target(&req.url, status, response.headers()) else {
            return Ok(response);
        };
        if req.follow == 0 {
            return Ok(response);
        }
        let keeps_method = matches!(
            status,
            StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
        );
        if keeps_method && streamed {
            // The body was streamed and is gone; the guest gets the redirect itself.
            return Ok(response);
        }
        if hops == req.follow {
            return Err(OutboundError::other(
                OutboundErrorKind::TooManyRedirects,
                req.method.as_str(),
                &req.url,
                format!(
                    "more than {} redirects; allow more with OPT_FOLLOW_REDIRECTS",
                    req.follow
                ),
            ));
        }
        hops += 1;
        drop(response);
        let safe = req.method == Method::GET || req.method == Method::HEAD;
        if !keeps_method && !safe {
            req.method = Method::GET;
            req.headers.remove(header::CONTENT_LENGTH);
            req.headers.remove(header::CONTENT_TYPE);
        }
        if origin(&next) != origin(&req.url) {
            // Credentials meant for one origin must not travel to another.
            req.headers.remove(header::AUTHORIZATION);
            req.headers.remove(header::COOKIE);
        }
        req.url = next;
    }
}

/// The absolute URL a redirect points to, if `status` is a redirect with a usable
/// `Location`.
fn redirect_target(base: &str, status: StatusCode, headers: &HeaderMap) -> Option<String> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = headers.get(header::LOCATION)?.to_str().ok()?.trim();
    resolve(base, location)
}

/// `scheme://authority` of an absolute URL.
fn origin(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..]
        .find(['/', '?'])
        .map_or(url.len(), |i| after + i);
    &url[..end]
}

/// Resolves a `Location` against the URL it came from (RFC 3986 reference forms used in
/// practice: absolute, scheme-relative, absolute-path, relative-path, query-only).
pub(crate) fn resolve(base: &str, location: &str) -> Option<String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Some(location.to_string());
    }
    let scheme_end = base.find("://")?;
    if let Some(rest) = location.strip_prefix("//") {
        return Some(format!("{}://{rest}", &base[..scheme_end]));
    }
    let origin = origin(base);
    let path_and_query = &base[origin.len()..];
    let path = path_and_query.split('?').next().unwrap_or("");
    if location.starts_with('/') {
        return Some(format!("{origin}{location}"));
    }
    if location.starts_with('?') {
        return Some(format!(
            "{origin}{}{location}",
            if path.is_empty() { "/" } else { path }
        ));
    }
    if location.is_empty() || location.contains("://") {
        return None;
    }
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    };
    Some(format!("{origin}{dir}{location}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_against_their_url() {
        let base = "http://127.0.0.1:8080/a/b?x=1";
        assert_eq!(
            resolve(base, "https://other.test/x").unwrap(),
            "https://other.test/x"
        );
        assert_eq!(
            resolve(base, "//other.test/y").unwrap(),
            "http://other.test/y"
        );
        assert_eq!(
            resolve(base, "/root").unwrap(),
            "http://127.0.0.1:8080/root"
        );
        assert_eq!(resolve(base, "c").unwrap(), "http://127.0.0.1:8080/a/c");
        assert_eq!(
            resolve(base, "?q=2").unwrap(),
            "http://127.0.0.1:8080/a/b?q=2"
        );
        assert_eq!(resolve("http://h", "c").unwrap(), "http://h/c");
        assert!(resolve(base, "").is_none());
        assert!(resolve(base, "javascript://x").is_none());
        assert_eq!(origin("https://h:1/p?q"), "https://h:1");
        assert_eq!(origin("https://h?q"), "https://h");
    }
}
