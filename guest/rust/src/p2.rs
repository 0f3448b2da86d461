//! wasm32-wasip2: the standard `wasi:http` interfaces through the `wasip2` crate.

use crate::{Body, CHUNK, Error, ErrorKind, Request, Response, next_body_chunk};
use std::time::Duration;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, HeaderError, IncomingBody, IncomingResponse,
    InputStream, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme, http_error_code,
};
use wasip2::io::poll::{Pollable, poll};
use wasip2::io::streams::StreamError;

fn kind_of(code: &ErrorCode) -> ErrorKind {
    use ErrorCode as E;
    match code {
        E::HttpRequestDenied => ErrorKind::Denied,
        E::DestinationIpProhibited => ErrorKind::DestinationIpProhibited,
        E::DnsTimeout | E::DnsError(_) | E::DestinationNotFound => ErrorKind::Dns,
        E::ConnectionRefused | E::DestinationUnavailable | E::DestinationIpUnroutable => {
            ErrorKind::ConnectionRefused
        }
        E::ConnectionTimeout
        | E::ConnectionReadTimeout
        | E::ConnectionWriteTimeout
        | E::HttpResponseTimeout => ErrorKind::Timeout,
        E::TlsProtocolError | E::TlsCertificateError | E::TlsAlertReceived(_) => ErrorKind::Tls,
        E::HttpRequestBodySize(_) | E::HttpResponseBodySize(_) => ErrorKind::BodyTooLarge,
        E::ConnectionLimitReached => ErrorKind::LimitReached,
        E::HttpRequestMethodInvalid
        | E::HttpRequestUriInvalid
        | E::HttpRequestUriTooLong
        | E::HttpRequestHeaderSectionSize(_)
        | E::HttpRequestHeaderSize(_)
        | E::HttpRequestTrailerSectionSize(_)
        | E::HttpRequestTrailerSize(_) => ErrorKind::InvalidRequest,
        E::HttpProtocolError
        | E::ConnectionTerminated
        | E::HttpResponseIncomplete
        | E::HttpResponseHeaderSectionSize(_)
        | E::HttpResponseHeaderSize(_)
        | E::HttpResponseTrailerSectionSize(_)
        | E::HttpResponseTrailerSize(_)
        | E::HttpResponseTransferCoding(_)
        | E::HttpResponseContentCoding(_)
        | E::HttpUpgradeFailed => ErrorKind::Protocol,
        _ => ErrorKind::Other,
    }
}

/// The `wasi:http` error code as an [`Error`]; the message is its Debug text without the
/// `ErrorCode::` prefix, e.g. `HttpRequestDenied`.
fn http_error(code: ErrorCode) -> Error {
    let text = format!("{code:?}");
    let text = text
        .strip_prefix("ErrorCode::")
        .unwrap_or(&text)
        .to_string();
    Error::new(kind_of(&code), None, text)
}

fn stream_error(e: StreamError) -> Error {
    match e {
        StreamError::LastOperationFailed(err) => match http_error_code(&err) {
            Some(code) => http_error(code),
            None => Error::new(ErrorKind::Protocol, None, err.to_debug_string()),
        },
        StreamError::Closed => Error::new(ErrorKind::Protocol, None, "stream closed"),
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidRequest, None, message)
}

fn header_error(name: &str, e: HeaderError) -> Error {
    let what = match e {
        HeaderError::Forbidden => "a header the host manages",
        HeaderError::InvalidSyntax => "an invalid header",
        HeaderError::Immutable => "immutable headers",
    };
    invalid(format!("header {name:?}: {what} ({e:?})"))
}

fn method_of(m: &str) -> Method {
    match m {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "CONNECT" => Method::Connect,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PATCH" => Method::Patch,
        other => Method::Other(other.to_string()),
    }
}

/// Splits an absolute `scheme://authority[/path][?query]` URL (the fragment is dropped).
fn split_url(url: &str) -> Result<(Scheme, String, String), Error> {
    let bad = || invalid(format!("not an absolute http(s) URL: {url:?}"));
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return Err(bad()),
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.is_empty() || authority.contains('@') {
        return Err(bad());
    }
    let path = if path.is_empty() {
        "/".to_string()
    } else if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    Ok((scheme, authority.to_string(), path))
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

pub(crate) fn start(req: Request) -> Result<Pending, Error> {
    let Request {
        method,
        url,
        headers,
        mut body,
        connect_timeout,
        first_byte_timeout,
        between_bytes_timeout,
    } = req;
    let (scheme, authority, path) = split_url(&url)?;
    let fields = Fields::new();
    for (name, value) in &headers {
        fields
            .append(name, value)
            .map_err(|e| header_error(name, e))?;
    }
    let request = OutgoingRequest::new(fields);
    request
        .set_method(&method_of(&method))
        .map_err(|()| invalid(format!("invalid method {method:?}")))?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| invalid(format!("invalid scheme in {url:?}")))?;
    request
        .set_authority(Some(&authority))
        .map_err(|()| invalid(format!("invalid authority {authority:?}")))?;
    request
        .set_path_with_query(Some(&path))
        .map_err(|()| invalid(format!("invalid path {path:?}")))?;

    let options = if connect_timeout.is_some()
        || first_byte_timeout.is_some()
        || between_bytes_timeout.is_some()
    {
        let o = RequestOptions::new();
        // A host that refuses a timeout keeps its own (the policy's) value.
        if let Some(d) = connect_timeout {
            let _ = o.set_connect_timeout(Some(nanos(d)));
        }
        if let Some(d) = first_byte_timeout {
            let _ = o.set_first_byte_timeout(Some(nanos(d)));
        }
        if let Some(d) = between_bytes_timeout {
            let _ = o.set_between_bytes_timeout(Some(nanos(d)));
        }
        Some(o)
    } else {
        None
    };

    let outgoing = request
        .body()
        .map_err(|()| Error::other("outgoing-request.body failed"))?;
    // Hand the request to the host first so that the body streams while it is written.
    let future = outgoing_handler::handle(request, options).map_err(http_error)?;
    if let Err(e) = write_body(&outgoing, &mut body) {
        // Dropping the body without `finish` aborts the request; the response future
        // usually has the better explanation (e.g. denied).
        drop(outgoing);
        return Err(explain(&future, e));
    }
    OutgoingBody::finish(outgoing, None).map_err(http_error)?;
    Ok(Pending { future })
}

/// Streams the body in writes of at most `check-write` permitted bytes (and 64 KiB).
fn write_body(outgoing: &OutgoingBody, body: &mut Body) -> Result<(), Error> {
    if matches!(body, Body::Empty) {
        return Ok(());
    }
    let stream = outgoing
        .write()
        .map_err(|()| Error::other("outgoing-body.write failed"))?;
    let mut buf = vec![0u8; CHUNK];
    let mut offset = 0;
    loop {
        let n = next_body_chunk(body, &mut offset, &mut buf)?;
        if n == 0 {
            break;
        }
        let mut written = 0;
        while written < n {
            let permit = stream.check_write().map_err(stream_error)?;
            if permit == 0 {
                stream.subscribe().block();
                continue;
            }
            let len = (n - written).min(usize::try_from(permit).unwrap_or(usize::MAX));
            stream
                .write(&buf[written..written + len])
                .map_err(stream_error)?;
            written += len;
        }
    }
    stream.flush().map_err(stream_error)?;
    stream.subscribe().block();
    stream.check_write().map_err(stream_error)?;
    Ok(())
}

/// If a body write failed, waits up to 2 s for the response future to give the request's
/// own error code, which explains the failure better.
fn explain(future: &FutureIncomingResponse, e: Error) -> Error {
    if e.kind() != ErrorKind::Protocol && e.kind() != ErrorKind::Other {
        return e;
    }
    {
        let ready = future.subscribe();
        let deadline = wasip2::clocks::monotonic_clock::subscribe_duration(2_000_000_000);
        poll(&[&ready, &deadline]);
    }
    match future.get() {
        Some(Ok(Err(code))) => http_error(code),
        _ => e,
    }
}

pub(crate) struct Pending {
    future: FutureIncomingResponse,
}

impl Pending {
    pub(crate) fn wait(self) -> Result<Response, Error> {
        self.future.subscribe().block();
        let response = match self.future.get() {
            Some(Ok(Ok(r))) => r,
            Some(Ok(Err(code))) => return Err(http_error(code)),
            Some(Err(())) => return Err(Error::other("response already taken")),
            None => return Err(Error::other("response not ready")),
        };
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v))
            .collect();
        let body = response
            .consume()
            .map_err(|()| Error::other("incoming-response.consume failed"))?;
        let stream = body
            .stream()
            .map_err(|()| Error::other("incoming-body.stream failed"))?;
        Ok(Response::new(
            status,
            headers,
            BodyReader {
                stream: Some(stream),
                body: Some(body),
                _response: response,
            },
        ))
    }
}

pub(crate) fn wait_all(pending: Vec<Pending>) -> Vec<Result<Response, Error>> {
    let mut waiting: Vec<Pollable> = pending.iter().map(|p| p.future.subscribe()).collect();
    while !waiting.is_empty() {
        let ready = {
            let refs: Vec<&Pollable> = waiting.iter().collect();
            poll(&refs)
        };
        let mut done = vec![false; waiting.len()];
        for i in ready {
            done[i as usize] = true;
        }
        let mut i = 0;
        waiting.retain(|_| {
            let keep = !done[i];
            i += 1;
            keep
        });
    }
    pending.into_iter().map(Pending::wait).collect()
}

/// The response body stream. Fields drop in order: the stream is a child of the body,
/// which belongs to the response.
pub(crate) struct BodyReader {
    stream: Option<InputStream>,
    body: Option<IncomingBody>,
    _response: IncomingResponse,
}

impl BodyReader {
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let Some(stream) = &self.stream else {
            return Ok(0);
        };
        let max = buf.len().min(CHUNK) as u64;
        loop {
            match stream.blocking_read(max) {
                Ok(chunk) if chunk.is_empty() => continue,
                Ok(chunk) => {
                    buf[..chunk.len()].copy_from_slice(&chunk);
                    return Ok(chunk.len());
                }
                Err(StreamError::Closed) => {
                    self.stream = None;
                    // The end of the body: a late failure shows in the trailers.
                    if let Some(body) = self.body.take() {
                        let trailers = IncomingBody::finish(body);
                        trailers.subscribe().block();
                        if let Some(Ok(Err(code))) = trailers.get() {
                            return Err(http_error(code));
                        }
                    }
                    return Ok(0);
                }
                Err(e) => return Err(stream_error(e)),
            }
        }
    }
}
