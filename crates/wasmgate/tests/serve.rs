//! `wasmgate::Server` through the library: real servers on 127.0.0.1:0, a real hyper
//! client, guests built from source (`serve-probe`, the Go CGI handler). Every wait is
//! bounded; concurrency is proven by counts, never by durations.

#[path = "serve/support.rs"]
mod support;

#[path = "serve/cgi.rs"]
mod cgi;
#[path = "serve/faults.rs"]
mod faults;
#[path = "serve/handlers.rs"]
mod handlers;
#[path = "serve/limits.rs"]
mod limits;
#[path = "serve/outbound.rs"]
mod outbound;
#[path = "serve/protocols.rs"]
mod protocols;
#[path = "serve/record.rs"]
mod record;
