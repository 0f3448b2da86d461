//! HAR 1.2 (<http://www.softwareishard.com/blog/har-12-spec/>) as wasmgate writes and
//! reads it: the fields the spec requires, the optional ones wasmgate fills, and its own
//! under `_wasmgate` (custom fields start with `_`, which HAR readers ignore).
//!
//! Reading is lenient where the spec allows omissions, so a file written by a browser or
//! another tool replays too.

use serde::{Deserialize, Serialize};

/// A whole HAR document: `{"log": …}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Har {
    /// The log.
    pub log: Log,
}

/// The root object of a HAR file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Log {
    /// Always `1.2`.
    pub version: String,
    /// The program that wrote the file.
    pub creator: Creator,
    /// One per request, in the order they ended.
    #[serde(default)]
    pub entries: Vec<Entry>,
}

/// `creator`: name and version of the writer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Creator {
    /// `wasmgate`.
    pub name: String,
    /// The crate's version.
    pub version: String,
}

/// One request and its outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// When the guest issued the request (RFC 3339, milliseconds).
    pub started_date_time: String,
    /// Milliseconds from the request until it was over.
    pub time: f64,
    /// The request as the guest sent it.
    pub request: Request,
    /// The response; status 0 when there was none (denied, failed).
    pub response: Response,
    /// Always empty: wasmgate has no cache.
    #[serde(default)]
    pub cache: Cache,
    /// Where the time went.
    pub timings: Timings,
    /// The address the request went to, if it got that far.
    #[serde(
        rename = "serverIPAddress",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub server_ip_address: Option<String>,
    /// Which connection carried it (a number unique within the run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// wasmgate's own fields.
    #[serde(rename = "_wasmgate", default, skip_serializing_if = "Option::is_none")]
    pub wasmgate: Option<WasmgateFields>,
}

/// `request`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// Method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// `HTTP/1.1` or `HTTP/2`.
    #[serde(default)]
    pub http_version: String,
    /// Not parsed out of `cookie` (which is redacted by default): always empty.
    #[serde(default)]
    pub cookies: Vec<Cookie>,
    /// Headers as the guest set them (redacted ones as [`super::REDACTED`]).
    #[serde(default)]
    pub headers: Vec<NameValue>,
    /// The URL's query, decoded.
    #[serde(default)]
    pub query_string: Vec<NameValue>,
    /// The body, if the request had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_data: Option<PostData>,
    /// Not measured: -1.
    #[serde(default = "minus_one")]
    pub headers_size: i64,
    /// Body bytes the guest sent (all of them, however many were kept).
    #[serde(default = "minus_one")]
    pub body_size: i64,
}

/// `response`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// Status code; 0 when no response arrived.
    pub status: u16,
    /// The reason phrase (HTTP/2 has none; the canonical one is used).
    #[serde(default)]
    pub status_text: String,
    /// `HTTP/1.1`, `HTTP/2`, or empty without a response.
    #[serde(default)]
    pub http_version: String,
    /// Not parsed out of `set-cookie`: always empty.
    #[serde(default)]
    pub cookies: Vec<Cookie>,
    /// Response headers (redacted ones as [`super::REDACTED`]).
    #[serde(default)]
    pub headers: Vec<NameValue>,
    /// The body.
    pub content: Content,
    /// The `location` header, if any.
    #[serde(default, rename = "redirectURL")]
    pub redirect_url: String,
    /// Not measured: -1.
    #[serde(default = "minus_one")]
    pub headers_size: i64,
    /// Body bytes handed to the guest.
    #[serde(default = "minus_one")]
    pub body_size: i64,
    /// Why there is no (complete) response: the error wasmgate reported.
    #[serde(rename = "_error", default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A cookie (never filled by wasmgate; read for files of other tools).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cookie {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// A header or query parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameValue {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// `request.postData`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostData {
    /// The request's `content-type`, or empty.
    #[serde(default)]
    pub mime_type: String,
    /// The body: text as it is, binary as base64 (then `_encoding` is `base64`).
    #[serde(default)]
    pub text: String,
    /// Required by the spec next to `text`; always empty here.
    #[serde(default)]
    pub params: Vec<NameValue>,
    /// `base64` when `text` is base64 (HAR 1.2 has `encoding` only on `content`).
    #[serde(rename = "_encoding", default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Set when only the first `--record-max-body` bytes were kept.
    #[serde(rename = "_truncated", default, skip_serializing_if = "is_false")]
    pub truncated: bool,
}

/// `response.content`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// Body bytes the guest received (all of them, however many were kept).
    pub size: i64,
    /// The response's `content-type`, or empty.
    #[serde(default)]
    pub mime_type: String,
    /// The kept body: text as it is, binary as base64 (then `encoding` is `base64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `base64` for a binary body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Says so when the body was truncated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Set when only the first `--record-max-body` bytes were kept.
    #[serde(rename = "_truncated", default, skip_serializing_if = "is_false")]
    pub truncated: bool,
}

/// `cache`: empty.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cache {}

/// `timings`, in milliseconds; -1 where not measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timings {
    /// Waiting for a connection slot: not measured.
    #[serde(default = "minus_one_f")]
    pub blocked: f64,
    /// DNS: not measured separately (it is part of `connect`).
    #[serde(default = "minus_one_f")]
    pub dns: f64,
    /// Opening a new connection (DNS, TCP, TLS); -1 on a reused one.
    #[serde(default = "minus_one_f")]
    pub connect: f64,
    /// Sending the request: counted in `wait` (the body streams as the server reads it).
    pub send: f64,
    /// Until the response head arrived.
    pub wait: f64,
    /// Reading the response body.
    pub receive: f64,
    /// TLS: part of `connect`, not measured separately.
    #[serde(default = "minus_one_f")]
    pub ssl: f64,
}

/// wasmgate's own fields of an entry.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WasmgateFields {
    /// `allowed` or `denied`.
    pub decision: String,
    /// The allow rule that matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The error kind (as in the audit log), when the request failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// `wasi-http` or `host-abi`.
    #[serde(default)]
    pub origin: String,
    /// Under `serve`: the incoming request whose handler made this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incoming: Option<String>,
}

fn minus_one() -> i64 {
    -1
}

fn minus_one_f() -> f64 {
    -1.0
}

fn is_false(b: &bool) -> bool {
    !b
}
