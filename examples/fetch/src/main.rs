//! `fetch URL...`: GETs each URL in order through `wasi:http` (via the `wstd` crate) and
//! prints `GET <url> -> <status>` and the first 200 bytes of the body, or
//! `GET <url> failed: <error>`. Exits 1 if any request failed.
//!
//! Build: `cargo build --release --target wasm32-wasip2`, then run it under wasmgate:
//! `wasmgate run --allow https://example.com fetch.wasm https://example.com/`.

use std::io::Write;
use wstd::http::{Body, Client, Method, Request};

/// How much of each body is printed.
const BODY_PREVIEW: usize = 200;

#[wstd::main]
async fn main() {
    let urls: Vec<String> = std::env::args().skip(1).collect();
    if urls.is_empty() {
        eprintln!("usage: fetch URL...");
        exit(2);
    }
    let client = Client::new();
    let mut failed = false;
    for url in &urls {
        match fetch(&client, url).await {
            Ok((status, body)) => {
                println!("GET {url} -> {status}");
                let shown = &body[..body.len().min(BODY_PREVIEW)];
                println!("{}", String::from_utf8_lossy(shown));
            }
            Err(e) => {
                println!("GET {url} failed: {e}");
                failed = true;
            }
        }
    }
    exit(i32::from(failed));
}

/// One GET: the status code and the whole body.
async fn fetch(client: &Client, url: &str) -> Result<(u16, Vec<u8>), String> {
    let request = Request::builder()
        .method(Method::GET)
        .uri(url)
        .body(Body::empty())
        .map_err(|e| format!("invalid URL: {e}"))?;
    let response = client.send(request).await.map_err(|e| format!("{e:#}"))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .contents()
        .await
        .map_err(|e| format!("{e:#}"))?
        .to_vec();
    Ok((status, body))
}

fn exit(code: i32) -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(code)
}
