//! `wstd-handler`: a `wasi:http/incoming-handler` component written the way a user of
//! the third-party `wstd` crate (0.6.8) writes one, with `#[wstd::http_server]`; its
//! outbound request goes through `wstd::http::Client`. No raw `wasip2` calls here.
//!
//! | path | answer |
//! |---|---|
//! | `/hello` | 200 `hello from wstd-handler\n` |
//! | `/fetch?url=URL` | one outbound GET of URL (percent-decoded); 200 with `upstream-status: CODE`, `---` and the upstream body; or 502 with the wasi:http error-code name (`HttpRequestDenied`, …) and a newline (any other error: its text) |
//! | anything else | 404 `not found: PATH\n` |

use wstd::http::{Body, Client, ErrorCode, Request, Response, StatusCode, Uri};

#[wstd::http_server]
async fn main(request: Request<Body>) -> Result<Response<Body>, wstd::http::Error> {
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    match path.as_str() {
        "/hello" => text(StatusCode::OK, "hello from wstd-handler\n".into()),
        "/fetch" => match param(&query, "url") {
            Some(url) => fetch(&url).await,
            None => text(StatusCode::BAD_REQUEST, "missing parameter: url\n".into()),
        },
        _ => text(StatusCode::NOT_FOUND, format!("not found: {path}\n")),
    }
}

fn text(status: StatusCode, body: String) -> Result<Response<Body>, wstd::http::Error> {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .header("x-handler", "wstd-handler")
        .body(Body::from(body))?)
}

async fn fetch(url: &str) -> Result<Response<Body>, wstd::http::Error> {
    let uri: Uri = match url.parse() {
        Ok(uri) => uri,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("bad url: {e}\n")),
    };
    let req = Request::get(uri).body(Body::empty())?;
    let resp = match Client::new().send(req).await {
        Ok(resp) => resp,
        Err(e) => return text(StatusCode::BAD_GATEWAY, format!("{}\n", error_name(&e))),
    };
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    match body.contents().await {
        Ok(bytes) => {
            let mut out = format!("upstream-status: {status}\n---\n").into_bytes();
            out.extend_from_slice(bytes);
            Ok(Response::builder()
                .header("content-type", "text/plain")
                .header("x-handler", "wstd-handler")
                .body(Body::from(out))?)
        }
        Err(e) => text(StatusCode::BAD_GATEWAY, format!("{}\n", error_name(&e))),
    }
}

/// A wasi:http error-code as its name without the `ErrorCode::` prefix
/// (`HttpRequestDenied`), anything else as its text.
fn error_name(e: &wstd::http::Error) -> String {
    match e.downcast_ref::<ErrorCode>() {
        Some(code) => {
            let s = format!("{code:?}");
            s.strip_prefix("ErrorCode::")
                .map_or(s.clone(), str::to_string)
        }
        None => format!("{e:#}"),
    }
}

/// The percent-decoded value of query parameter `name` (`+` is a space).
fn param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| decode(v))
    })
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
