//! The request a guest asked for, validated once at the edge so the policy
//! compares normalised values (lowercase names, explicit ports) instead of
//! re-parsing URLs in every check. The method is kept byte for byte: methods
//! are case-sensitive, and the method checked must be the method sent.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{TargetError, quoted};

/// The longest DNS name (RFC 1035), so absurd hosts fail here, not in DNS.
const MAX_NAME_LEN: usize = 253;

/// The longest DNS label (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// The scheme of a request: wasmgate only makes HTTP requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// The port used when a URL names none: 80 for http, 443 for https.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// Case-insensitive, because URL schemes are (RFC 3986 §3.1).
    pub(crate) fn from_text(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("http") {
            Some(Scheme::Http)
        } else if s.eq_ignore_ascii_case("https") {
            Some(Scheme::Https)
        } else {
            None
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The host of a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A DNS name: lowercase, without a trailing dot.
    Name(String),
    /// An IP literal.
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
            // Brackets keep the address apart from a following `:port`.
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
        }
    }
}

/// A validated request target: what a guest asked for, parsed at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestTarget {
    /// The method exactly as the guest wrote it (an HTTP token, case kept:
    /// `get` is not `GET`, RFC 9110 §9.1), so the method checked is the one sent.
    pub method: String,
    /// `http` or `https`.
    pub scheme: Scheme,
    /// The host, normalised.
    pub host: Host,
    /// The port: explicit, or the scheme's default.
    pub port: u16,
    /// The path and query; always starts with `/`.
    pub path_and_query: String,
}

impl RequestTarget {
    /// Parses method + absolute URL `scheme://host[:port][/path][?query]` (no fragment, no userinfo).
    pub fn parse(method: &str, url: &str) -> Result<Self, TargetError> {
        let method = parse_method(method).map_err(|why| TargetError::new(method, why))?;
        let err = |why: String| TargetError::new(url, why);
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(err(
                "expected an absolute URL scheme://host[:port][/path], e.g. https://api.example.com/v1"
                    .into(),
            ));
        };
        let scheme = parse_scheme(scheme).map_err(err)?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(end);
        let (host, port) = parse_authority(authority).map_err(err)?;
        let path_and_query = if path_and_query.starts_with('?') {
            format!("/{path_and_query}")
        } else {
            path_and_query.to_owned()
        };
        let path_and_query = parse_path_and_query(&path_and_query).map_err(err)?;
        Ok(Self {
            method,
            scheme,
            port: port.unwrap_or(scheme.default_port()),
            host,
            path_and_query,
        })
    }

    /// From already-split parts (the wasi:http adapter has scheme, authority, path separately). `authority` = `host[:port]`, IPv6 bracketed.
    ///
    /// An empty `path_and_query` means `/`.
    pub fn from_parts(
        method: &str,
        scheme: &str,
        authority: &str,
        path_and_query: &str,
    ) -> Result<Self, TargetError> {
        let method = parse_method(method).map_err(|why| TargetError::new(method, why))?;
        // Formatted only for an error: this runs on every request.
        let err =
            |why: String| TargetError::new(format!("{scheme}://{authority}{path_and_query}"), why);
        let scheme = parse_scheme(scheme).map_err(err)?;
        let (host, port) = parse_authority(authority).map_err(err)?;
        let path_and_query = parse_path_and_query(path_and_query).map_err(err)?;
        Ok(Self {
            method,
            scheme,
            port: port.unwrap_or(scheme.default_port()),
            host,
            path_and_query,
        })
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        match self.path_and_query.split_once('?') {
            Some((path, _)) => path,
            None => &self.path_and_query,
        }
    }

    /// Canonical `scheme://host[:port]/path?q`; the port is omitted when it is the default.
    pub fn url(&self) -> String {
        self.url_with(&self.authority())
    }

    /// [`Self::url`] from an [`Self::authority`] already at hand, so a caller that needs
    /// both formats the host once.
    pub fn url_with(&self, authority: &str) -> String {
        let scheme = self.scheme.as_str();
        let mut s =
            String::with_capacity(scheme.len() + 3 + authority.len() + self.path_and_query.len());
        s.push_str(scheme);
        s.push_str("://");
        s.push_str(authority);
        s.push_str(&self.path_and_query);
        s
    }

    /// `host[:port]`; the port is omitted when it is the default, IPv6 is bracketed.
    ///
    /// Written without the formatting machinery into one allocation of the right size:
    /// every request needs it, and `format!` cost several reallocations per call.
    pub fn authority(&self) -> String {
        let mut s = String::with_capacity(64);
        match &self.host {
            Host::Name(name) => s.push_str(name),
            Host::Ip(IpAddr::V4(ip)) => {
                for (i, octet) in ip.octets().into_iter().enumerate() {
                    if i > 0 {
                        s.push('.');
                    }
                    push_decimal(&mut s, octet.into());
                }
            }
            Host::Ip(IpAddr::V6(_)) => s.push_str(&self.host.to_string()),
        }
        if self.port != self.scheme.default_port() {
            s.push(':');
            push_decimal(&mut s, self.port.into());
        }
        s
    }
}

impl fmt::Display for RequestTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url())
    }
}

/// Appends `n` in decimal.
fn push_decimal(s: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        s.push(d as char);
    }
}

/// RFC 9110 `tchar`: the characters allowed in a method token.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Validates an HTTP method token and keeps it as written: the request goes
/// out with this exact method, so matching must not re-case it.
pub(crate) fn parse_method(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err("empty method".into());
    }
    if let Some(bad) = s.chars().find(|&c| !is_tchar(c)) {
        return Err(format!(
            "method {s:?} contains {bad:?}, which is not allowed in an HTTP method"
        ));
    }
    Ok(s.to_owned())
}

fn parse_scheme(s: &str) -> Result<Scheme, String> {
    Scheme::from_text(s).ok_or_else(|| {
        format!("scheme {s:?} is not supported: wasmgate only makes http and https requests")
    })
}

/// Splits `host[:port]` and validates both halves.
fn parse_authority(authority: &str) -> Result<(Host, Option<u16>), String> {
    if authority.is_empty() {
        return Err("the URL has no host".into());
    }
    if authority.contains('@') {
        return Err("credentials (user@host) are not allowed in request URLs".into());
    }
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let Some((inside, after)) = inner.split_once(']') else {
            return Err("IPv6 address has no closing ']'".into());
        };
        let ip = parse_ipv6(inside)?;
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return Err(format!("unexpected {after:?} after IPv6 address")),
            },
        };
        (Host::Ip(IpAddr::V6(ip)), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        if port.is_some_and(|p| p.contains(':')) {
            return Err("IPv6 addresses must be in brackets, e.g. http://[::1]:8080".into());
        }
        (parse_host_text(host)?, port)
    };
    let port = port.map(parse_port_number).transpose()?;
    Ok((host, port))
}

/// Parses an IPv6 literal from inside brackets; zone ids (`%eth0`) name a
/// local interface and have no meaning for an egress policy.
pub(crate) fn parse_ipv6(s: &str) -> Result<Ipv6Addr, String> {
    s.parse::<Ipv6Addr>()
        .map_err(|_| format!("{s:?} is not a valid IPv6 address"))
}

/// Parses a port number 1-65535 (0 cannot be dialled).
pub(crate) fn parse_port_number(s: &str) -> Result<u16, String> {
    if s.is_empty() {
        return Err("empty port after ':'".into());
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("port {} is not a number", quoted(s)));
    }
    match s.parse::<u32>() {
        Ok(0) => Err("port 0 cannot be dialled; ports are 1-65535".into()),
        Ok(n) if n <= u32::from(u16::MAX) => Ok(n as u16),
        _ => Err(format!("port {} is out of range 1-65535", quoted(s))),
    }
}

/// Parses a host that is not bracketed: a dotted IPv4 address or a DNS name.
///
/// Numeric forms other than dotted quads (`127.1`, `0x7f.0.0.1`, `2130706433`,
/// `010.0.0.1`) are rejected: resolvers and servers disagree on what they mean,
/// and some read them as loopback.
pub(crate) fn parse_host_text(host: &str) -> Result<Host, String> {
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.is_empty() {
        return Err("the host is empty".into());
    }
    if let Ok(ip) = name.parse::<Ipv4Addr>() {
        return Ok(Host::Ip(IpAddr::V4(ip)));
    }
    parse_name(name).map(Host::Name)
}

/// Validates and lowercases a DNS name (no trailing dot; the caller strips one).
pub(crate) fn parse_name(name: &str) -> Result<String, String> {
    if !name.is_ascii() {
        return Err(format!(
            "host {} is not ASCII; write its punycode form (xn--…)",
            quoted(name)
        ));
    }
    let lower = name.to_ascii_lowercase();
    if let Some(bad) = lower
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
    {
        return Err(format!("host {} contains {bad:?}", quoted(name)));
    }
    if lower.len() > MAX_NAME_LEN {
        return Err(format!(
            "host {} is longer than {MAX_NAME_LEN} characters",
            quoted(name)
        ));
    }
    for label in lower.split('.') {
        if label.is_empty() {
            return Err(format!("host {} has an empty label", quoted(name)));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(format!(
                "host {} has a label longer than {MAX_LABEL_LEN} characters",
                quoted(name)
            ));
        }
    }
    if looks_numeric(lower.rsplit('.').next().unwrap_or_default()) {
        return Err(format!(
            "host {} looks like an IP address but is not a dotted IPv4 address a.b.c.d",
            quoted(name)
        ));
    }
    Ok(lower)
}

/// WHATWG URL parsers treat a host whose last label is a number (decimal or
/// `0x` hex) as an IPv4 address, so such a name is never a plain DNS name.
fn looks_numeric(label: &str) -> bool {
    let hex = label
        .strip_prefix("0x")
        .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
    hex || label.bytes().all(|b| b.is_ascii_digit())
}

/// Validates a path-and-query: starts with `/`, printable ASCII, no fragment.
fn parse_path_and_query(pq: &str) -> Result<String, String> {
    if pq.is_empty() {
        return Ok("/".into());
    }
    if !pq.starts_with('/') {
        return Err(format!("path {pq:?} must start with '/'"));
    }
    if pq.contains('#') {
        return Err("a fragment (#…) is never sent to a server; drop it".into());
    }
    if let Some(bad) = pq.chars().find(|&c| !c.is_ascii_graphic()) {
        return Err(format!(
            "path contains {bad:?}; spaces, control and non-ASCII characters must be percent-encoded"
        ));
    }
    Ok(pq.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Host {
        Host::Ip(s.parse().unwrap())
    }

    #[test]
    fn accepts_urls() {
        let table: &[(&str, &str, &str, Host, u16, &str)] = &[
            (
                "GET",
                "https://api.example.com",
                "GET",
                Host::Name("api.example.com".into()),
                443,
                "/",
            ),
            (
                "get",
                "http://Example.COM./x?q=1",
                "get",
                Host::Name("example.com".into()),
                80,
                "/x?q=1",
            ),
            (
                "POST",
                "http://127.0.0.1:8080/a/b",
                "POST",
                ip("127.0.0.1"),
                8080,
                "/a/b",
            ),
            (
                "DELETE",
                "HTTPS://[::1]:8443?x",
                "DELETE",
                ip("::1"),
                8443,
                "/?x",
            ),
            (
                "PUT",
                "https://[2001:db8::1]/",
                "PUT",
                ip("2001:db8::1"),
                443,
                "/",
            ),
            (
                "GET",
                "http://localhost:80/",
                "GET",
                Host::Name("localhost".into()),
                80,
                "/",
            ),
            (
                "GET",
                "http://my_host.internal/%20",
                "GET",
                Host::Name("my_host.internal".into()),
                80,
                "/%20",
            ),
        ];
        for (method, url, m, host, port, pq) in table {
            let t = RequestTarget::parse(method, url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(&t.method, m, "{url}");
            assert_eq!(&t.host, host, "{url}");
            assert_eq!(t.port, *port, "{url}");
            assert_eq!(t.path_and_query, *pq, "{url}");
        }
    }

    #[test]
    fn does_not_accept_urls() {
        let table: &[(&str, &str, &str)] = &[
            ("GET", "example.com/x", "absolute URL"),
            ("GET", "ftp://example.com", "only makes http and https"),
            ("GET", "http://", "no host"),
            ("GET", "http:///x", "no host"),
            ("GET", "http://user:pw@example.com/", "credentials"),
            ("GET", "http://example.com/#frag", "fragment"),
            ("GET", "http://example.com:0/", "port 0"),
            ("GET", "http://example.com:70000/", "out of range"),
            ("GET", "http://example.com:/", "empty port"),
            ("GET", "http://example.com:8o/", "not a number"),
            ("GET", "http://::1/", "brackets"),
            ("GET", "http://[::1/", "closing"),
            ("GET", "http://[zz::1]/", "not a valid IPv6"),
            ("GET", "http://[::1]x/", "unexpected"),
            ("GET", "http://127.1/", "dotted IPv4"),
            ("GET", "http://2130706433/", "dotted IPv4"),
            ("GET", "http://0x7f.0.0.1/", "dotted IPv4"),
            ("GET", "http://010.0.0.1/", "dotted IPv4"),
            ("GET", "http://a..b/", "empty label"),
            ("GET", "http://*.example.com/", "contains '*'"),
            ("GET", "http://bücher.de/", "punycode"),
            ("GET", "http://example.com/a b", "percent-encoded"),
            (
                "G T",
                "http://example.com/",
                "not allowed in an HTTP method",
            ),
            ("", "http://example.com/", "empty method"),
        ];
        for (method, url, fragment) in table {
            let err = RequestTarget::parse(method, url)
                .expect_err(url)
                .to_string();
            assert!(err.contains(fragment), "{url}: {err:?} lacks {fragment:?}");
        }
    }

    /// Methods are case-sensitive and go out as written, so they are kept.
    #[test]
    fn keeps_methods_as_written() {
        let table: &[(&str, &str)] = &[
            ("GET", "the standard spelling"),
            ("get", "lowercase is another method, not GET"),
            ("GeT", "mixed case is kept too"),
            ("patch", "fetch() does not upper-case PATCH"),
            ("PROPFIND", "extension methods"),
            ("M-SEARCH", "tchar punctuation"),
        ];
        for (method, why) in table {
            let t = RequestTarget::parse(method, "http://h/").unwrap();
            assert_eq!(t.method, *method, "{why}");
            let parts = RequestTarget::from_parts(method, "http", "h", "/").unwrap();
            assert_eq!(parts.method, *method, "{why}");
            assert_eq!(t.to_string(), format!("{method} http://h/"), "{why}");
        }
    }

    #[test]
    fn from_parts_matches_parse() {
        let a = RequestTarget::from_parts("GET", "https", "Example.com:8443", "/v1?q").unwrap();
        let b = RequestTarget::parse("GET", "https://example.com:8443/v1?q").unwrap();
        assert_eq!(a, b);
        let empty = RequestTarget::from_parts("GET", "http", "[::1]", "").unwrap();
        assert_eq!(empty.path_and_query, "/");
        let err = RequestTarget::from_parts("GET", "http", "h", "x").unwrap_err();
        assert!(err.to_string().contains("must start with '/'"), "{err}");
        assert!(err.to_string().contains("\"http://hx\""), "{err}");
    }

    #[test]
    fn renders_canonical_forms() {
        let table: &[(&str, &str, &str, &str)] = &[
            (
                "https://example.com:443/a?b",
                "https://example.com/a?b",
                "example.com",
                "/a",
            ),
            (
                "http://example.com:8080",
                "http://example.com:8080/",
                "example.com:8080",
                "/",
            ),
            ("http://[::1]:80/x", "http://[::1]/x", "[::1]", "/x"),
            ("https://[::1]:80/x", "https://[::1]:80/x", "[::1]:80", "/x"),
            // IPv4 digits and ports written by hand (`push_decimal`): zeros, the largest
            // values, a port that is another scheme's default.
            (
                "http://0.0.0.0:65535/",
                "http://0.0.0.0:65535/",
                "0.0.0.0:65535",
                "/",
            ),
            (
                "https://255.255.255.255:80/",
                "https://255.255.255.255:80/",
                "255.255.255.255:80",
                "/",
            ),
            (
                "http://10.0.100.9:1",
                "http://10.0.100.9:1/",
                "10.0.100.9:1",
                "/",
            ),
            (
                "http://127.0.0.1:80/z",
                "http://127.0.0.1/z",
                "127.0.0.1",
                "/z",
            ),
        ];
        for (url, canonical, authority, path) in table {
            let t = RequestTarget::parse("GET", url).unwrap();
            assert_eq!(t.url(), *canonical);
            assert_eq!(t.authority(), *authority);
            assert_eq!(t.path(), *path);
        }
        assert_eq!(Scheme::Https.to_string(), "https");
        assert_eq!(Scheme::Http.default_port(), 80);
    }
}
