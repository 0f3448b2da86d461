//! Fetches a URL through wasmgate and prints the status and the body.
//!
//! ```sh
//! cargo build --release --example get --target wasm32-wasip1   # or wasm32-wasip2
//! wasmgate run --allow https://example.com target/wasm32-wasip1/release/examples/get.wasm https://example.com/
//! ```

use wasmgate_guest::Request;

fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "https://example.com/".to_string());
    match Request::get(url).send().and_then(|resp| {
        println!("status: {}", resp.status());
        resp.text()
    }) {
        Ok(body) => println!("{body}"),
        Err(e) => {
            // On wasip1 the message is wasmgate's own, e.g. the `--allow` flag to add.
            eprintln!("error: {:?} {}", e.kind(), e.message());
            std::process::exit(1);
        }
    }
}
