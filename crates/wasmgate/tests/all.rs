//! Host-library tests: guests built from source make real requests to real servers on
//! 127.0.0.1, through the library API (injected resolver, captured stdio, events).

#[path = "common/mod.rs"]
mod common;

mod all {
    mod egress;
    pub mod harness;
    mod http;
    mod limits;
    mod one_thread;
    mod policy;
    mod refused;
    mod reuse;
    mod tls;
    mod tls_client_cert;
    mod tls_trust;
    mod wstd;
}
