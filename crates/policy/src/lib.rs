//! wasmgate's egress policy, with no I/O: everything here is parsed at the
//! edge and matched as plain values, so the host library can check a request
//! before it touches the network and tests need no sockets.
//!
//! A request goes through two checks:
//!
//! 1. [`Policy::check_request`], before DNS: some `--allow` rule
//!    ([`AllowRule`]) must allow the method, scheme, host, port and path.
//!    Nothing is allowed by default.
//! 2. [`Policy::check_address`], after DNS, for every address a name resolved
//!    to: addresses in special ranges ([`SpecialRange`]: loopback, private,
//!    cloud metadata, …) are refused unless the rule names them literally or
//!    `--allow-cidr` covers them. This stops an allowed public name from
//!    being pointed at internal services (DNS rebinding).
//!
//! [`Limits`] carries the timeouts and size caps; [`Limit`] names one so
//! messages can say which flag raises it.
//!
//! Every rejection says what was wrong, quotes the input, and where it can,
//! suggests the exact flag that would allow the request.

#![warn(missing_docs)]

mod address;
mod destination;
mod embedded_ipv4;
mod error;
mod limits;
mod path_normalization;
mod policy;
mod rule;
mod target;

pub use address::{SpecialRange, canonical_ip, classify, parse_cidr};
pub use destination::{DestinationError, DestinationPattern};
pub use error::{RuleError, RuleErrorKind, TargetError, ValueError};
pub use ipnet::IpNet;
pub use limits::{
    DEFAULT_BETWEEN_BYTES_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_BYTE_TIMEOUT,
    DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_MAX_REQUEST_BODY, DEFAULT_MAX_REQUESTS,
    DEFAULT_MAX_RESPONSE_BODY, Limit, Limits, format_duration, format_size, parse_duration,
    parse_size,
};
pub use policy::{AddressDenial, Denial, DenialReason, Policy};
pub use rule::AllowRule;
pub use target::{Host, RequestTarget, Scheme};
