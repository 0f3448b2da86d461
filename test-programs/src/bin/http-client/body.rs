//! Reading and writing bodies, and printing responses.

use super::*;

/// The `bench` output: `ok: N`, `body-bytes: TOTAL`, `elapsed-ms: MS` (3 decimals).
pub(crate) fn print_bench(n: u64, bytes: u64, started: std::time::Instant) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    println!("ok: {n}");
    println!("body-bytes: {bytes}");
    println!("elapsed-ms: {ms:.3}");
}

/// Waits for the response head.
pub(crate) fn await_response(fut: FutureIncomingResponse) -> Result<IncomingResponse, Failure> {
    fut.subscribe().block();
    match fut.get() {
        Some(Ok(Ok(resp))) => Ok(resp),
        Some(Ok(Err(code))) => Err(Failure::Http(code)),
        Some(Err(())) => Err(other("response already taken")),
        None => Err(other("response not ready")),
    }
}

/// Prints status, headers, `body-bytes`, `---` and the body.
pub(crate) fn print_response(resp: IncomingResponse) -> Result<(), Failure> {
    println!("status: {}", resp.status());
    for (name, value) in resp.headers().entries() {
        println!("header: {name}: {}", String::from_utf8_lossy(&value));
    }
    let mut body = Vec::new();
    read_body(&resp, |chunk| body.extend_from_slice(chunk))?;
    drop(resp);
    println!("body-bytes: {}", body.len());
    println!("---");
    println!("{}", String::from_utf8_lossy(&body));
    Ok(())
}

/// Reads the whole response body in chunks of at most 64 KiB, handing each
/// to `sink`, then checks the trailers for a late error. Returns the number
/// of body bytes.
pub(crate) fn read_body(
    resp: &IncomingResponse,
    mut sink: impl FnMut(&[u8]),
) -> Result<u64, Failure> {
    let body = resp
        .consume()
        .map_err(|()| other("incoming-response.consume failed"))?;
    let mut total = 0u64;
    {
        let stream = body
            .stream()
            .map_err(|()| other("incoming-body.stream failed"))?;
        loop {
            match stream.blocking_read(READ_CHUNK) {
                Ok(chunk) => {
                    total += chunk.len() as u64;
                    sink(&chunk);
                }
                Err(StreamError::Closed) => break,
                Err(e) => return Err(stream_failure(e)),
            }
        }
        // The stream is a child of the body: drop it before `finish`.
    }
    let trailers = IncomingBody::finish(body);
    trailers.subscribe().block();
    if let Some(Ok(Err(code))) = trailers.get() {
        return Err(Failure::Http(code));
    }
    Ok(total)
}

/// Streams `size` bytes of the pattern into the body, never writing more
/// than `check-write` permits nor more than `chunk` bytes at once, then
/// flushes and waits for the flush to complete.
pub(crate) fn write_body(body: &OutgoingBody, size: u64, chunk: u64) -> Result<(), Failure> {
    let stream = body
        .write()
        .map_err(|()| other("outgoing-body.write failed"))?;
    let mut buf = Vec::new();
    let mut offset = 0u64;
    while offset < size {
        let permit = stream.check_write().map_err(stream_failure)?;
        if permit == 0 {
            stream.subscribe().block();
            continue;
        }
        let len = permit.min(chunk).min(size - offset).min(MAX_WRITE);
        let len = usize::try_from(len).expect("MAX_WRITE fits in usize");
        buf.resize(len, 0);
        fill_pattern(&mut buf, offset);
        stream.write(&buf).map_err(stream_failure)?;
        offset += len as u64;
    }
    stream.flush().map_err(stream_failure)?;
    stream.subscribe().block();
    stream.check_write().map_err(stream_failure)?;
    Ok(())
}

/// A failed upload usually means the request itself failed; if the response
/// future reports an error-code soon, that is the better explanation.
pub(crate) fn explain_upload_failure(fut: &FutureIncomingResponse, err: Failure) -> Failure {
    if matches!(err, Failure::Http(_)) {
        return err;
    }
    {
        let ready = fut.subscribe();
        let deadline = monotonic_clock::subscribe_duration(UPLOAD_ERROR_GRACE_NS);
        poll(&[&ready, &deadline]);
    }
    match fut.get() {
        Some(Ok(Err(code))) => Failure::Http(code),
        _ => err,
    }
}
