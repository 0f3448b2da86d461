//! `wstd-client`: outbound HTTP through the third-party `wstd` crate (its
//! `Client`, `Request` and `Body`), to check that an ordinary async wasi:http
//! client works through the host. No raw `wasip2` calls here.

use std::io::Write;

use test_programs::parse_u64;
use wstd::http::{Body, Client, Method, Request, StatusCode, Uri};

const USAGE: &str = "usage: wstd-client <loop URL N | post URL TEXT | get URL>";

#[wstd::main]
async fn main() {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = run(args.get(1..).unwrap_or_default()).await;
    exit(code)
}

fn exit(code: i32) -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(code)
}

fn usage(reason: &str) -> ! {
    eprintln!("{USAGE}");
    eprintln!("  ({reason})");
    exit(2)
}

fn parse_uri(url: &str) -> Uri {
    match url.parse::<Uri>() {
        Ok(uri) if uri.scheme().is_some() && uri.authority().is_some() => uri,
        _ => usage("URL must look like http://host[:port][/path]"),
    }
}

async fn run(args: &[String]) -> i32 {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["loop", url, n] => {
            let uri = parse_uri(url);
            let n = parse_u64(n).unwrap_or_else(|| usage("N must be a number"));
            cmd_loop(uri, n).await
        }
        ["post", url, text] => {
            let req = Request::builder()
                .method(Method::POST)
                .uri(parse_uri(url))
                .header("content-type", "text/plain")
                .body(Body::from(text.to_string()))
                .expect("request parts were validated");
            cmd_print(req).await
        }
        ["get", url] => {
            let req = Request::builder()
                .method(Method::GET)
                .uri(parse_uri(url))
                .body(Body::empty())
                .expect("request parts were validated");
            cmd_print(req).await
        }
        [] => usage("missing command"),
        _ => usage("unknown command or wrong number of arguments"),
    }
}

/// `loop URL N`: N sequential GETs, each must be 200 with its body read.
async fn cmd_loop(uri: Uri, n: u64) -> i32 {
    let client = Client::new();
    for i in 0..n {
        let req = Request::builder()
            .method(Method::GET)
            .uri(uri.clone())
            .body(Body::empty())
            .expect("request parts were validated");
        let resp = match client.send(req).await {
            Ok(resp) => resp,
            Err(e) => {
                eprintln!("error at {i}: {e:#}");
                return 1;
            }
        };
        if resp.status() != StatusCode::OK {
            eprintln!("error at {i}: status {}", resp.status().as_u16());
            return 1;
        }
        if let Err(e) = resp.into_body().contents().await {
            eprintln!("error at {i}: {e:#}");
            return 1;
        }
    }
    println!("ok: {n}");
    0
}

/// Sends `req` and prints `status: <code>`, `---` and the body text.
async fn cmd_print(req: Request<Body>) -> i32 {
    let resp = match Client::new().send(req).await {
        Ok(resp) => resp,
        Err(e) => {
            eprintln!("error: {e:#}");
            return 1;
        }
    };
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let contents = match body.contents().await {
        Ok(contents) => contents,
        Err(e) => {
            eprintln!("error: {e:#}");
            return 1;
        }
    };
    println!("status: {status}");
    println!("---");
    println!("{}", String::from_utf8_lossy(contents));
    0
}
