//! Destination patterns, `HOST[:PORT]`: which servers a per-destination setting (a
//! `[[tls]]` entry) applies to. The HOST and PORT syntax is exactly that of allow rules,
//! so a host written in a rule can be copied here unchanged.

use std::fmt;

use crate::error::quoted;
use crate::rule::AllowRule;
use crate::target::{Host, Scheme};

/// `HOST[:PORT]` with the HOST and PORT syntax of [`AllowRule`]: a name, `*.suffix`,
/// `*`, an IP literal (`[::1]` for IPv6) or a CIDR; a port, `*` or `START..END`.
/// No port means 443: these patterns name TLS servers, reached by `https` URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationPattern {
    original: String,
    /// The pattern as an `https://HOST[:PORT]` rule, so matching is the rules' own.
    rule: AllowRule,
}

impl DestinationPattern {
    /// Parses `HOST[:PORT]`; a scheme, path, method or credentials are refused.
    pub fn parse(s: &str) -> Result<Self, DestinationError> {
        let text = s.trim();
        let err = |detail: String| DestinationError {
            input: s.to_owned(),
            detail,
        };
        if text.contains("://") {
            return Err(err(
                "write the host without a scheme (api.example.com:8443, not https://api.example.com:8443)".into(),
            ));
        }
        if text.contains(char::is_whitespace) {
            return Err(err(
                "a destination is one HOST[:PORT], without spaces or methods".into(),
            ));
        }
        let rule =
            AllowRule::parse(&format!("https://{text}")).map_err(|e| err(e.detail().to_owned()))?;
        if rule.path_prefix().is_some() {
            return Err(err(
                "a destination has no path; write just HOST[:PORT]".into()
            ));
        }
        Ok(Self {
            original: s.to_owned(),
            rule,
        })
    }

    /// Whether a connection to `host`:`port` is covered by this pattern.
    pub fn matches(&self, host: &Host, port: u16) -> bool {
        self.rule.matches_host_port(host, port, Scheme::Https)
    }

    /// The pattern exactly as given.
    pub fn as_str(&self) -> &str {
        &self.original
    }
}

impl fmt::Display for DestinationPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// A destination pattern that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationError {
    input: String,
    detail: String,
}

impl DestinationError {
    /// The pattern exactly as given.
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for DestinationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid destination {}: {}; expected HOST[:PORT] as in allow rules (no port means 443), e.g. \"api.internal:8443\" or \"*.corp.example\"",
            quoted(&self.input),
            self.detail
        )
    }
}

impl std::error::Error for DestinationError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> Host {
        match s.parse() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(s.to_owned()),
        }
    }

    #[test]
    fn matches_like_rule_hosts_with_443_by_default() {
        let table: &[(&str, &str, u16, bool)] = &[
            ("api.internal:8443", "api.internal", 8443, true),
            ("api.internal:8443", "api.internal", 443, false),
            ("api.internal", "api.internal", 443, true),
            ("api.internal", "api.internal", 8443, false),
            ("*.corp.example", "a.b.corp.example", 443, true),
            ("*.corp.example", "corp.example", 443, false),
            ("*.corp.example:*", "x.corp.example", 9, true),
            ("127.0.0.1:1000..2000", "127.0.0.1", 1500, true),
            ("127.0.0.1:1000..2000", "127.0.0.1", 2000, false),
            ("10.0.0.0/8:*", "10.1.2.3", 1, true),
            ("[::1]:*", "::1", 5, true),
            ("*:*", "anything.example", 1, true),
            ("localhost:*", "127.0.0.1", 1, false),
        ];
        for (pattern, h, port, want) in table {
            let p = DestinationPattern::parse(pattern).unwrap();
            assert_eq!(p.matches(&host(h), *port), *want, "{pattern} vs {h}:{port}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_destination_quoting_it() {
        for (bad, says) in [
            ("https://api.internal", "without a scheme"),
            ("api.internal/v1", "has no path"),
            ("GET api.internal", "without spaces"),
            ("", "host is empty"),
            ("api.internal:0", "port"),
            ("user@api.internal", "credentials"),
            ("a*.example", "*"),
        ] {
            let e = DestinationPattern::parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
            assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
            assert!(e.contains("expected HOST[:PORT]"), "{bad}: {e}");
        }
    }
}
