//! The policy: allow rules, extra allowed address ranges and limits, and the
//! two checks the host makes per request (before DNS and after it).

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::address::{SpecialRange, canonical_ip, classify, judge};
use crate::limits::Limits;
use crate::path_normalization::ambiguity;
use crate::rule::{AllowRule, Miss};
use crate::target::{Host, RequestTarget};

/// A deny-by-default egress policy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    rules: Vec<AllowRule>,
    allowed_cidrs: Vec<IpNet>,
    limits: Limits,
}

impl Policy {
    /// A policy allowing what `rules` allow, letting names resolve into
    /// special ranges only where a rule or `allowed_cidrs` names them.
    pub fn new(rules: Vec<AllowRule>, allowed_cidrs: Vec<IpNet>, limits: Limits) -> Self {
        Self {
            rules,
            allowed_cidrs,
            limits,
        }
    }

    /// No rules and default limits: every request is denied.
    pub fn deny_all() -> Self {
        Self::default()
    }

    /// The allow rules, in the order they are tried.
    pub fn rules(&self) -> &[AllowRule] {
        &self.rules
    }

    /// Address ranges (`--allow-cidr`) that may be dialled even when special.
    pub fn allowed_cidrs(&self) -> &[IpNet] {
        &self.allowed_cidrs
    }

    /// The resource limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// First rule that allows the target, else a Denial explaining the closest miss.
    ///
    /// The closest miss is the rule that matched the most parts, compared in
    /// the order host, scheme, port, method, path (first such rule wins ties).
    pub fn check_request(&self, t: &RequestTarget) -> Result<&AllowRule, Denial> {
        let mut closest: Option<(&AllowRule, Miss)> = None;
        for rule in &self.rules {
            match rule.first_miss(t) {
                None => return Ok(rule),
                Some(miss) if closest.is_none_or(|(_, best)| miss > best) => {
                    closest = Some((rule, miss));
                }
                Some(_) => {}
            }
        }
        Err(match closest {
            None => Denial::new(
                DenialReason::NoRules,
                "no --allow rules were given: every request is denied by default".into(),
                suggest(t, None, None),
            ),
            Some((_, Miss::Host)) => Denial::new(
                DenialReason::HostNotAllowed,
                format!("no --allow rule matches host {}", t.authority()),
                suggest(t, None, None),
            ),
            Some((rule, Miss::Scheme)) => Denial::new(
                DenialReason::SchemeNotAllowed,
                format!(
                    "rule {:?} allows {} only, not {}",
                    rule.as_str(),
                    rule.describe_scheme(),
                    t.scheme
                ),
                suggest(t, None, None),
            ),
            Some((rule, Miss::Port)) => Denial::new(
                DenialReason::PortNotAllowed,
                format!(
                    "rule {:?} allows {}, not {}",
                    rule.as_str(),
                    rule.describe_port(t.scheme),
                    t.port
                ),
                suggest(t, None, None),
            ),
            Some((rule, Miss::Method)) if !AllowRule::can_name_method(&t.method) => Denial::new(
                DenialReason::MethodNotAllowed,
                format!(
                    "rule {:?} does not allow method {}: HTTP methods are case-sensitive and a rule's methods are uppercase, so only a rule without methods (any method) allows {}",
                    rule.as_str(),
                    t.method,
                    t.method
                ),
                // No method list can name it.
                suggest(t, None, suggested_path(rule, t)),
            ),
            Some((rule, Miss::Method)) => Denial::new(
                DenialReason::MethodNotAllowed,
                format!(
                    "rule {:?} does not allow method {}",
                    rule.as_str(),
                    t.method
                ),
                suggest(t, Some(&t.method), suggested_path(rule, t)),
            ),
            Some((rule, Miss::Path)) => {
                let prefix = rule.path_prefix().unwrap_or("/");
                let why = ambiguity(t.path());
                let mut message = format!(
                    "rule {:?} allows paths under {prefix}, not {}",
                    rule.as_str(),
                    t.path()
                );
                if let Some(why) = why {
                    message.push_str(&format!(
                        ": the path has {why}, and such paths never match a path prefix"
                    ));
                }
                let ambiguous = why.is_some();
                let method = (rule.restricts_methods() && AllowRule::can_name_method(&t.method))
                    .then_some(t.method.as_str());
                // An ambiguous path cannot be written as a prefix, so only a
                // rule without a path would allow it.
                let path = (!ambiguous).then(|| t.path());
                Denial::new(
                    DenialReason::PathNotAllowed,
                    message,
                    suggest(t, method, path),
                )
            }
        })
    }

    /// After DNS: may this resolved address be dialled for a request allowed by `rule`? Ordinary public addresses: Ok. Special ranges: Ok only if rule.names_address(ip) or an allowed CIDR contains canonical_ip(ip) (or ip); else AddressDenial.
    ///
    /// Tunnelled forms (6to4, Teredo, ISATAP) are not folded by `canonical_ip`,
    /// so naming the IPv4 address they carry does not opt them in: the rule or
    /// CIDR must cover the IPv6 address, and the suggestion names just it.
    pub fn check_address(&self, rule: &AllowRule, ip: IpAddr) -> Result<(), AddressDenial> {
        let Some(range) = classify(ip) else {
            return Ok(());
        };
        let canonical = canonical_ip(ip);
        let allowed = rule.names_address(ip)
            || self
                .allowed_cidrs
                .iter()
                .any(|net| net.contains(&canonical) || net.contains(&ip));
        if allowed {
            return Ok(());
        }
        let net = IpNet::from(canonical);
        Err(AddressDenial {
            ip,
            range,
            suggestion: format!("--allow-cidr {net}"),
        })
    }
}

/// Which part of the request no rule allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DenialReason {
    /// The policy has no rules at all.
    NoRules,
    /// No rule's host matches.
    HostNotAllowed,
    /// The closest rule allows another scheme.
    SchemeNotAllowed,
    /// The closest rule allows other ports.
    PortNotAllowed,
    /// The closest rule allows other methods.
    MethodNotAllowed,
    /// The closest rule allows other paths.
    PathNotAllowed,
}

/// Why a request was denied, and the flag that would allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// Which part of the request missed.
    pub reason: DenialReason,
    /// The `--allow` flag that would permit this request and as little else as
    /// possible, shell-quoted when needed.
    pub suggestion: String,
    message: String,
}

impl Denial {
    fn new(reason: DenialReason, message: String, suggestion: String) -> Self {
        Self {
            reason,
            suggestion,
            message,
        }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Denial {}

/// A resolved address in a special range that no rule or `--allow-cidr` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressDenial {
    /// The address DNS returned.
    pub ip: IpAddr,
    /// The special range it lies in.
    pub range: SpecialRange,
    /// The `--allow-cidr` flag that would allow just this address.
    pub suggestion: String,
}

impl fmt::Display for AddressDenial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let canonical = canonical_ip(self.ip);
        write!(f, "address {}", self.ip)?;
        if canonical != self.ip {
            write!(f, " ({canonical})")?;
        } else if let Some((_, Some((carrier, v4)))) = judge(self.ip) {
            // Say which carried address made a public-looking IPv6 address special.
            write!(f, " ({carrier}, carrying {v4})")?;
        }
        write!(f, " is {} and no rule names it", self.range)
    }
}

impl std::error::Error for AddressDenial {}

/// The path prefix for a suggestion after a method miss: the rule's own when
/// it matches (the method was the only miss; paths are checked after methods),
/// else the request's path, or none when no prefix can match that path.
fn suggested_path<'a>(rule: &'a AllowRule, t: &'a RequestTarget) -> Option<&'a str> {
    match rule.path_prefix() {
        Some(_) if ambiguity(t.path()).is_some() => None,
        Some(prefix) if rule.path_matches(t.path()) => Some(prefix),
        Some(_) => Some(t.path()),
        None => None,
    }
}

/// Builds `--allow RULE` for exactly this target's scheme, host and port, plus
/// an optional method and path prefix.
fn suggest(t: &RequestTarget, method: Option<&str>, path: Option<&str>) -> String {
    let mut rule = String::new();
    if let Some(method) = method {
        rule.push_str(method);
        rule.push(' ');
    }
    rule.push_str(t.scheme.as_str());
    rule.push_str("://");
    let path = path.filter(|p| *p != "/").unwrap_or("");
    // After an IP literal, `/N` reads as a CIDR prefix length, so a path whose
    // first segment is a number needs an explicit single-address prefix.
    let numeric_segment = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    match (&t.host, numeric_segment) {
        (Host::Ip(ip), true) => {
            rule.push_str(&Host::Ip(*ip).to_string());
            rule.push_str(if ip.is_ipv4() { "/32" } else { "/128" });
            if t.port != t.scheme.default_port() {
                rule.push_str(&format!(":{}", t.port));
            }
        }
        _ => rule.push_str(&t.authority()),
    }
    rule.push_str(path);
    format!("--allow {}", shell_quote(&rule))
}

/// Single-quotes `s` for POSIX shells unless every character is safe bare
/// (`[` and `]` are glob characters, so IPv6 literals get quoted too).
fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/:.,_-@%+=".contains(c);
    if s.chars().all(safe) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
