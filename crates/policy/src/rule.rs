//! Allow rules: `[METHOD[,METHOD…] ]SCHEME://HOST[:PORT][/PATH-PREFIX]`.
//!
//! The syntax is a superset of Spin's `allowed_outbound_hosts` entries, so a
//! Spin manifest's list can be passed as `--allow` flags unchanged. Methods
//! and path prefixes are wasmgate additions.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

use crate::address::canonical_ip;
use crate::error::{RuleError, RuleErrorKind, quoted};
use crate::path_normalization::{ambiguity, is_ambiguous_path};
use crate::target::{
    Host, RequestTarget, Scheme, parse_host_text, parse_ipv6, parse_method, parse_name,
    parse_port_number,
};

/// Which schemes a rule allows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SchemePattern {
    Any,
    Exact(Scheme),
    /// A scheme Spin accepts for other outbound APIs (`redis`, `mysql`, …):
    /// it parses, but never matches an HTTP request.
    Other(String),
}

/// Which hosts a rule allows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Name(String),
    /// `*.suffix`: any name ending in `.suffix`, at any depth; never `suffix` itself.
    Subdomains(String),
    Ip(IpAddr),
    Cidr(IpNet),
}

/// Which ports a rule allows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    /// No port written: the default port of the request's scheme.
    Default,
    Any,
    Exact(u16),
    /// `start..end` as in Spin (a Rust `Range`): `end` is excluded.
    Range(u16, u16),
}

/// The first part of a rule that a request fails, in the order the policy
/// reports misses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Miss {
    Host,
    Scheme,
    Port,
    Method,
    Path,
}

/// One `--allow` rule.
///
/// Semantics worth knowing:
/// - No methods means any method. A rule's methods are upper-cased when it is
///   parsed (`get` means `GET`) and a request's method must equal one byte for
///   byte, because the request goes out with the method as the guest wrote it
///   and HTTP methods are case-sensitive: a request method with lowercase
///   letters (`get`, `GeT`) matches only rules without methods.
/// - Scheme `*` matches http and https; other schemes parse but never match.
/// - No port means the default port of the rule's scheme; for scheme `*` it is
///   the default port of whichever scheme the request uses. `A..B` allows
///   ports A up to but not including B, as in Spin.
/// - A path prefix matches the same path or one continuing it at a `/`
///   (`/v1` matches `/v1`, `/v1/x`, not `/v10`); a prefix ending in `/`
///   matches paths starting with it; a bare `/` or no path matches any path.
///   Requests whose paths servers may resolve differently (dot segments,
///   `;` parameters, backslashes, encoded separators or `%`, invalid UTF-8,
///   look-alikes; see `path_normalization`) never match a path prefix.
/// - After an IP literal, `/N` is a CIDR prefix length (Spin's form,
///   `https://192.168.1.0/24`), so a path right after an IP needs an explicit
///   prefix length: `http://10.0.0.1/32/v1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowRule {
    original: String,
    methods: Vec<String>,
    scheme: SchemePattern,
    host: HostPattern,
    port: PortPattern,
    path: Option<String>,
}

impl AllowRule {
    /// Parses a rule; see the type's docs for the syntax and meaning.
    pub fn parse(s: &str) -> Result<Self, RuleError> {
        let err = |kind, detail: String| RuleError::new(s, kind, detail);
        let text = s.trim();
        if text.is_empty() {
            return Err(err(RuleErrorKind::Empty, "the rule is empty".into()));
        }
        if text.contains('{') || text.contains('}') {
            return Err(err(
                RuleErrorKind::Template,
                "templates such as {{ host }} are a Spin feature that wasmgate does not expand; write the literal host".into(),
            ));
        }
        let Some((head, rest)) = text.split_once("://") else {
            let detail = if text == "*" {
                "missing \"://\"; to allow every request write *://*:*, which turns the sandbox's egress policy off"
            } else {
                "missing \"://\" after the scheme"
            };
            return Err(err(RuleErrorKind::MissingScheme, detail.into()));
        };
        let (methods, scheme) = match head.rsplit_once(char::is_whitespace) {
            Some((methods, scheme)) => (
                parse_methods(methods).map_err(|d| err(RuleErrorKind::BadMethod, d))?,
                scheme,
            ),
            None => (Vec::new(), head),
        };
        let scheme = parse_scheme(scheme).map_err(|d| err(RuleErrorKind::BadScheme, d))?;

        if rest.contains('?') || rest.contains('#') {
            return Err(err(
                RuleErrorKind::BadPath,
                "a query (?) or fragment (#) cannot be part of a rule; rules match path prefixes only".into(),
            ));
        }
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if rest[..authority_end].contains('@') {
            return Err(err(
                RuleErrorKind::UserInfo,
                "credentials (user@host) don't belong in rules; write just the host".into(),
            ));
        }

        let (host, after_host) = parse_host_pattern(rest).map_err(|(k, d)| err(k, d))?;
        let (port, path) = match after_host.strip_prefix(':') {
            Some(after) => {
                let end = after.find('/').unwrap_or(after.len());
                let port = parse_port_pattern(&after[..end])
                    .map_err(|d| err(RuleErrorKind::BadPort, d))?;
                (port, &after[end..])
            }
            None => (PortPattern::Default, after_host),
        };
        let path = parse_path_prefix(path).map_err(|d| err(RuleErrorKind::BadPath, d))?;
        Ok(Self {
            original: s.to_owned(),
            methods,
            scheme,
            host,
            port,
            path,
        })
    }

    /// The rule exactly as given.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Does this rule allow the target? (method, scheme, host, port, path all match)
    pub fn matches(&self, t: &RequestTarget) -> bool {
        self.first_miss(t).is_none()
    }

    /// True when the rule's HOST names this resolved address literally: an IP literal equal to it, a CIDR containing it, or the name `localhost` when ip is loopback. Used to let a rule opt in to a special address range.
    ///
    /// Wildcard hosts (`*`, `*.suffix`) and other names never do: a rule must
    /// name an internal address on purpose, not reach it through DNS.
    pub fn names_address(&self, ip: IpAddr) -> bool {
        let canonical = canonical_ip(ip);
        match &self.host {
            HostPattern::Ip(rule_ip) => canonical_ip(*rule_ip) == canonical,
            HostPattern::Cidr(net) => net.contains(&ip) || net.contains(&canonical),
            HostPattern::Name(name) => name == "localhost" && canonical.is_loopback(),
            HostPattern::Any | HostPattern::Subdomains(_) => false,
        }
    }

    /// True when the rule's HOST and PORT allow `host`:`port` (no port written means
    /// `scheme`'s default); for patterns that name destinations rather than requests.
    pub(crate) fn matches_host_port(&self, host: &Host, port: u16, scheme: Scheme) -> bool {
        self.host_matches(host)
            && match self.port {
                PortPattern::Default => port == scheme.default_port(),
                PortPattern::Any => true,
                PortPattern::Exact(p) => port == p,
                PortPattern::Range(start, end) => (start..end).contains(&port),
            }
    }

    /// The first part of the rule the target fails, or `None` when it matches.
    pub(crate) fn first_miss(&self, t: &RequestTarget) -> Option<Miss> {
        if !self.host_matches(&t.host) {
            Some(Miss::Host)
        } else if !self.scheme_matches(t.scheme) {
            Some(Miss::Scheme)
        } else if !self.port_matches(t) {
            Some(Miss::Port)
        } else if !self.methods.is_empty() && !self.methods.contains(&t.method) {
            Some(Miss::Method)
        } else if !self.path_matches(t.path()) {
            Some(Miss::Path)
        } else {
            None
        }
    }

    fn host_matches(&self, host: &Host) -> bool {
        match (&self.host, host) {
            (HostPattern::Any, _) => true,
            (HostPattern::Name(rule), Host::Name(name)) => rule == name,
            (HostPattern::Subdomains(suffix), Host::Name(name)) => name
                .strip_suffix(suffix.as_str())
                .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            (HostPattern::Ip(rule), Host::Ip(ip)) => canonical_ip(*rule) == canonical_ip(*ip),
            (HostPattern::Cidr(net), Host::Ip(ip)) => {
                net.contains(ip) || net.contains(&canonical_ip(*ip))
            }
            _ => false,
        }
    }

    fn scheme_matches(&self, scheme: Scheme) -> bool {
        match &self.scheme {
            SchemePattern::Any => true,
            SchemePattern::Exact(s) => *s == scheme,
            SchemePattern::Other(_) => false,
        }
    }

    fn port_matches(&self, t: &RequestTarget) -> bool {
        match self.port {
            PortPattern::Default => t.port == t.scheme.default_port(),
            PortPattern::Any => true,
            PortPattern::Exact(p) => t.port == p,
            PortPattern::Range(start, end) => (start..end).contains(&t.port),
        }
    }

    pub(crate) fn path_matches(&self, path: &str) -> bool {
        let Some(prefix) = &self.path else {
            return true;
        };
        if is_ambiguous_path(path) {
            return false;
        }
        if prefix.ends_with('/') {
            return path.starts_with(prefix.as_str());
        }
        path.strip_prefix(prefix.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// True when a method list can name `method`: rules upper-case their
    /// methods, so one with lowercase letters is only allowed by a rule
    /// without methods.
    pub(crate) fn can_name_method(method: &str) -> bool {
        !method.bytes().any(|b| b.is_ascii_lowercase())
    }

    /// True when the rule lists methods (rather than allowing any).
    pub(crate) fn restricts_methods(&self) -> bool {
        !self.methods.is_empty()
    }

    /// The path prefix, when the rule restricts paths.
    pub(crate) fn path_prefix(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The scheme(s) the rule allows, for messages.
    pub(crate) fn describe_scheme(&self) -> String {
        match &self.scheme {
            SchemePattern::Any => "http and https".into(),
            SchemePattern::Exact(s) => s.to_string(),
            SchemePattern::Other(s) => s.clone(),
        }
    }

    /// The port(s) the rule allows for a request with `scheme`, for messages.
    pub(crate) fn describe_port(&self, scheme: Scheme) -> String {
        match self.port {
            PortPattern::Default => format!("port {} only", scheme.default_port()),
            PortPattern::Any => "any port".into(),
            PortPattern::Exact(p) => format!("port {p} only"),
            PortPattern::Range(start, end) => format!("ports {start} to {} only", end - 1),
        }
    }
}

impl FromStr for AllowRule {
    type Err = RuleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for AllowRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Rule methods are upper-cased so that `get https://…` keeps meaning `GET`;
/// requests are not (see [`AllowRule`]), so a rule can only name uppercase methods.
fn parse_methods(list: &str) -> Result<Vec<String>, String> {
    let mut methods = Vec::new();
    for method in list.split(',').map(str::trim) {
        if method.is_empty() {
            return Err(format!(
                "method list {} has an empty entry",
                quoted(list.trim())
            ));
        }
        let method = parse_method(method)?.to_ascii_uppercase();
        if !methods.contains(&method) {
            methods.push(method);
        }
    }
    Ok(methods)
}

/// Schemes one typo away from `http`/`https` (`htp`, `htps`, `htttp`) are
/// refused: a typo would otherwise parse as a non-HTTP scheme and silently
/// never match.
fn parse_scheme(s: &str) -> Result<SchemePattern, String> {
    if s == "*" {
        return Ok(SchemePattern::Any);
    }
    let lower = s.to_ascii_lowercase();
    if let Some(scheme) = Scheme::from_text(&lower) {
        return Ok(SchemePattern::Exact(scheme));
    }
    let valid = lower.starts_with(|c: char| c.is_ascii_lowercase())
        && lower
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c));
    if !valid {
        return Err(format!("{} is not a valid scheme", quoted(s)));
    }
    if edit_distance_at_most_one(&lower, "http") || edit_distance_at_most_one(&lower, "https") {
        return Err(format!("unknown scheme {}", quoted(s)));
    }
    Ok(SchemePattern::Other(lower))
}

/// Optimal-string-alignment distance ≤ 1 (one insertion, deletion,
/// substitution or swap of neighbours); enough to catch scheme typos.
fn edit_distance_at_most_one(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    match (a.len(), b.len()) {
        (0, 0) => true,
        (x, y) if x == y => {
            a[1..] == b[1..] || (x >= 2 && a[0] == b[1] && a[1] == b[0] && a[2..] == b[2..])
        }
        (x, y) if x + 1 == y => a == &b[1..],
        (x, y) if y + 1 == x => &a[1..] == b,
        _ => false,
    }
}

type HostResult<'a> = Result<(HostPattern, &'a str), (RuleErrorKind, String)>;

/// Parses the host (with a CIDR prefix length, if any) from the start of
/// `rest` and returns what follows it (`:port…`, `/path…` or nothing).
fn parse_host_pattern(rest: &str) -> HostResult<'_> {
    use RuleErrorKind::*;
    if let Some(inner) = rest.strip_prefix('[') {
        let Some((inside, after)) = inner.split_once(']') else {
            return Err((BadAddress, "IPv6 address has no closing ']'".into()));
        };
        let (addr, len) = match inside.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (inside, None),
        };
        let ip = IpAddr::V6(parse_ipv6(addr).map_err(|d| (BadAddress, d))?);
        if let Some(len) = len {
            return Ok((cidr(ip, len)?, after));
        }
        return ip_then_cidr(ip, after);
    }
    let end = rest.find([':', '/']).unwrap_or(rest.len());
    let (host, after) = rest.split_at(end);
    if after.starts_with(':') && after[1..].split('/').next().unwrap_or("").contains(':') {
        return Err((
            BadAddress,
            "IPv6 addresses must be in brackets, e.g. http://[::1]:8080 or http://[fd00::/8]"
                .into(),
        ));
    }
    if host.is_empty() {
        return Err((EmptyHost, "the host is empty".into()));
    }
    if host == "*" {
        return Ok((HostPattern::Any, after));
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.eq_ignore_ascii_case("self") || name.eq_ignore_ascii_case("self.alt") {
        return Err((
            SelfHost,
            format!(
                "Spin's {} host (the app itself) has no meaning in wasmgate, which runs no app to call back; write the host and port the guest should reach, e.g. http://localhost:3000",
                quoted(host)
            ),
        ));
    }
    if let Some(suffix) = host.strip_prefix("*.") {
        let suffix = suffix.strip_suffix('.').unwrap_or(suffix);
        if suffix.is_empty() || suffix.contains('*') {
            return Err((BadWildcard, bad_wildcard(host)));
        }
        let suffix = parse_name(suffix).map_err(|d| (BadHost, d))?;
        return Ok((HostPattern::Subdomains(suffix), after));
    }
    if host.contains('*') {
        return Err((BadWildcard, bad_wildcard(host)));
    }
    match parse_host_text(host) {
        Ok(Host::Ip(ip)) => ip_then_cidr(ip, after),
        Ok(Host::Name(name)) => Ok((HostPattern::Name(name), after)),
        Err(d) if d.contains("IP address") => Err((BadAddress, d)),
        Err(d) => Err((BadHost, d)),
    }
}

fn bad_wildcard(host: &str) -> String {
    format!(
        "bad wildcard {}: '*' may only be the whole host or a leading \"*.\" followed by a domain, as in *.example.com",
        quoted(host)
    )
}

/// After an IP literal, `/N` (digits only, up to `:`, `/` or the end) is a
/// CIDR prefix length, as in Spin's `https://192.168.1.0/24`.
fn ip_then_cidr(ip: IpAddr, after: &str) -> HostResult<'_> {
    if let Some(tail) = after.strip_prefix('/') {
        let end = tail.find([':', '/']).unwrap_or(tail.len());
        let len = &tail[..end];
        if !len.is_empty() && len.bytes().all(|b| b.is_ascii_digit()) {
            return Ok((cidr(ip, len)?, &tail[end..]));
        }
    }
    Ok((HostPattern::Ip(ip), after))
}

fn cidr(ip: IpAddr, len: &str) -> Result<HostPattern, (RuleErrorKind, String)> {
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let net = len
        .parse::<u8>()
        .ok()
        .filter(|_| len.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| IpNet::new(ip, n).ok())
        .ok_or_else(|| {
            (
                RuleErrorKind::BadAddress,
                format!("CIDR prefix length {} is not 0-{max}", quoted(len)),
            )
        })?;
    Ok(HostPattern::Cidr(net.trunc()))
}

fn parse_port_pattern(s: &str) -> Result<PortPattern, String> {
    if s == "*" {
        return Ok(PortPattern::Any);
    }
    if let Some((start, end)) = s.split_once("..") {
        let range_err = |why: String| format!("bad port range {}: {why}", quoted(s));
        let start = parse_port_number(start).map_err(range_err)?;
        let end = parse_port_number(end).map_err(range_err)?;
        if start >= end {
            return Err(range_err(format!(
                "START must be below END (END is excluded, so {start}..{} allows {start} alone)",
                u32::from(start) + 1
            )));
        }
        return Ok(PortPattern::Range(start, end));
    }
    parse_port_number(s).map(PortPattern::Exact)
}

/// A bare `/` (or nothing) means any path.
fn parse_path_prefix(path: &str) -> Result<Option<String>, String> {
    if path.is_empty() || path == "/" {
        return Ok(None);
    }
    if let Some(bad) = path.chars().find(|&c| !c.is_ascii_graphic()) {
        return Err(format!(
            "path prefix {} contains {bad:?}; spaces, control and non-ASCII characters are not allowed",
            quoted(path)
        ));
    }
    if let Some(why) = ambiguity(path) {
        return Err(format!(
            "path prefix {} has {why}, so servers may resolve it differently",
            quoted(path)
        ));
    }
    Ok(Some(path.to_owned()))
}

#[cfg(test)]
#[path = "rule_tests.rs"]
mod tests;
