//! Guest strings become validated request parts here, or a precise error.

use super::codes::*;
use super::memory::CallError;
use http::{HeaderName, HeaderValue, Method};
use wasmgate_policy::RequestTarget;
use wasmtime_wasi_http::DEFAULT_FORBIDDEN_HEADERS;

/// Longest accepted URL. Far above what real APIs use; keeps a hostile guest from
/// making the host parse megabytes.
pub(crate) const MAX_URL_LEN: usize = 8 * 1024;

/// Longest method token (real ones are under 10 bytes).
pub(crate) const MAX_METHOD_LEN: usize = 64;

/// Total size of one request's headers (names + values), as proxies commonly cap the
/// header section well below this.
pub(crate) const MAX_HEADER_BYTES: usize = 128 * 1024;

pub(crate) fn method(bytes: &[u8]) -> Result<Method, CallError> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        (
            ERR_BAD_UTF8,
            "request_new: the method is not valid UTF-8".to_string(),
        )
    })?;
    if bytes.is_empty() || bytes.len() > MAX_METHOD_LEN {
        return Err((
            ERR_BAD_METHOD,
            format!("request_new: method {text:?} must be 1 to {MAX_METHOD_LEN} bytes"),
        ));
    }
    Method::from_bytes(bytes).map_err(|_| {
        (
            ERR_BAD_METHOD,
            format!("request_new: {text:?} is not an HTTP method token (e.g. GET, POST)"),
        )
    })
}

/// Checks the URL and returns it in canonical form.
pub(crate) fn url(method: &Method, bytes: &[u8]) -> Result<String, CallError> {
    if bytes.len() > MAX_URL_LEN {
        return Err((
            ERR_BAD_URL,
            format!(
                "request_new: the URL is {} bytes; at most {MAX_URL_LEN} are accepted",
                bytes.len()
            ),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        (
            ERR_BAD_UTF8,
            "request_new: the URL is not valid UTF-8".to_string(),
        )
    })?;
    let target = RequestTarget::parse(method.as_str(), text)
        .map_err(|e| (ERR_BAD_URL, format!("request_new: {e}")))?;
    Ok(target.url())
}

pub(crate) fn header(name: &[u8], value: &[u8]) -> Result<(HeaderName, HeaderValue), CallError> {
    let shown = String::from_utf8_lossy(name);
    let name = HeaderName::from_bytes(name).map_err(|_| {
        (
            ERR_BAD_HEADER,
            format!("request_header: {shown:?} is not a valid header name (an RFC 9110 token)"),
        )
    })?;
    if DEFAULT_FORBIDDEN_HEADERS.contains(&name) {
        return Err((
            ERR_FORBIDDEN_HEADER,
            format!("request_header: {name} is managed by the host and cannot be set"),
        ));
    }
    if value.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err((
            ERR_BAD_HEADER,
            format!("request_header: the value of {name} contains CR, LF or NUL"),
        ));
    }
    let value = HeaderValue::from_bytes(value).map_err(|_| {
        (
            ERR_BAD_HEADER,
            format!("request_header: the value of {name} contains control characters"),
        )
    })?;
    Ok((name, value))
}

/// Parses the `name_len name value_len value` sequence used by `fetch` (and produced by
/// `response_headers`).
pub(crate) fn header_list(mut bytes: &[u8]) -> Result<Vec<(HeaderName, HeaderValue)>, CallError> {
    let bad = || {
        (
            ERR_BAD_HEADER,
            "fetch: the header list is truncated or malformed".to_string(),
        )
    };
    let mut out = Vec::new();
    let take = |b: &mut &[u8]| -> Result<Vec<u8>, CallError> {
        if b.len() < 4 {
            return Err(bad());
        }
        let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if b.len() - 4 < n {
            return Err(bad());
        }
        let v = b[4..4 + n].to_vec();
        *b = &b[4 + n..];
        Ok(v)
    };
    while !bytes.is_empty() {
        let name = take(&mut bytes)?;
        let value = take(&mut bytes)?;
        out.push(header(&name, &value)?);
    }
    Ok(out)
}

/// Serializes headers as `name_len name value_len value` entries (u32 little-endian).
pub(crate) fn serialize_headers(headers: &http::HeaderMap) -> Vec<u8> {
    // Sized up front: growing it header by header reallocated several times per response.
    let len = headers
        .iter()
        .map(|(n, v)| 8 + n.as_str().len() + v.len())
        .sum();
    let mut out = Vec::with_capacity(len);
    for (name, value) in headers {
        out.extend_from_slice(&(name.as_str().len() as u32).to_le_bytes());
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_refuses_header_parts() {
        assert!(header(b"x-ok", b"fine value\twith tab").is_ok());
        assert_eq!(header(b"bad name", b"v").unwrap_err().0, ERR_BAD_HEADER);
        assert_eq!(
            header(b"x", b"a\r\nInjected: 1").unwrap_err().0,
            ERR_BAD_HEADER
        );
        assert_eq!(header(b"x", b"nul\0").unwrap_err().0, ERR_BAD_HEADER);
        assert_eq!(
            header(b"Host", b"evil").unwrap_err().0,
            ERR_FORBIDDEN_HEADER
        );
        assert_eq!(
            header(b"transfer-encoding", b"chunked").unwrap_err().0,
            ERR_FORBIDDEN_HEADER
        );
    }

    #[test]
    fn header_lists_round_trip_and_reject_truncation() {
        let mut map = http::HeaderMap::new();
        map.append("a", HeaderValue::from_static("1"));
        map.append("b", HeaderValue::from_static("two"));
        let bytes = serialize_headers(&map);
        let back = header_list(&bytes).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].1, "two");
        assert_eq!(
            header_list(&bytes[..bytes.len() - 1]).unwrap_err().0,
            ERR_BAD_HEADER
        );
        assert_eq!(
            header_list(&[255, 255, 255, 255]).unwrap_err().0,
            ERR_BAD_HEADER
        );
    }

    #[test]
    fn methods_and_urls() {
        assert!(method(b"PATCH").is_ok());
        assert_eq!(method(b"").unwrap_err().0, ERR_BAD_METHOD);
        assert_eq!(method(b"GE T").unwrap_err().0, ERR_BAD_METHOD);
        assert_eq!(method(&[0xff]).unwrap_err().0, ERR_BAD_UTF8);
        let get = Method::GET;
        assert_eq!(
            url(&get, b"http://127.0.0.1:8080/x?y").unwrap(),
            "http://127.0.0.1:8080/x?y"
        );
        assert_eq!(url(&get, b"ftp://x/").unwrap_err().0, ERR_BAD_URL);
        assert_eq!(url(&get, b"/relative").unwrap_err().0, ERR_BAD_URL);
        assert_eq!(url(&get, &[b'h', 0xc3]).unwrap_err().0, ERR_BAD_UTF8);
        assert_eq!(
            url(&get, &vec![b'a'; MAX_URL_LEN + 1]).unwrap_err().0,
            ERR_BAD_URL
        );
    }
}
