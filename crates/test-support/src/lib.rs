//! Test helpers shared by the host library's and the CLI's tests: real HTTP(S) servers on
//! `127.0.0.1:0` and guest programs built from source (see `test-programs/`).

pub mod c;
pub mod go;
mod guests;
mod har;
pub mod pki;
mod proxy;
pub mod rust_guest;
mod server;
pub mod tinygo;
mod tls;

pub use guests::{Guest, guest};
pub use har::check_har;
pub use proxy::{ProxiedRequest, TestProxy, basic};
pub use server::{JSON_DOCUMENT, ServerStats, TestServer};
pub use tls::TestCa;

/// A compiled-code cache shared by the tests (`target/test-cache`), so each guest is
/// compiled once per build rather than once per test.
pub fn test_cache_dir() -> std::path::PathBuf {
    guests::repo_root().join("target/test-cache")
}
