//! The rules against the binary: a guest that can make HTTP requests under rules that
//! deny everything, rules that can never match, rules for a guest with no way out.

use crate::inspect::Facts;
use crate::stack::{Network, Toolchain};
use crate::{Context, Finding, Severity};
use wasmgate_policy::AllowRule;

/// The scheme part of a rule as written (`GET https://…` → `https`), lower-case.
fn scheme(rule: &AllowRule) -> String {
    let text = rule.as_str().trim();
    let head = text.split_once("://").map_or(text, |(h, _)| h);
    head.rsplit(char::is_whitespace)
        .next()
        .unwrap_or(head)
        .to_ascii_lowercase()
}

/// True when the rule can match an HTTP(S) request at all.
fn can_match_http(rule: &AllowRule) -> bool {
    matches!(scheme(rule).as_str(), "http" | "https" | "*")
}

pub(crate) fn check(f: &Facts, ctx: &Context) -> Vec<Finding> {
    let tool = Toolchain::detect(f);
    let net = Network::detect(f, &tool);
    let mut out = Vec::new();
    let dead: Vec<&AllowRule> = ctx.rules.iter().filter(|r| !can_match_http(r)).collect();
    for rule in &dead {
        out.push(
            Finding::new(
                "rule-never-matches",
                Severity::Warning,
                format!("Rule \"{rule}\" can never match: its scheme is not http or https"),
                format!(
                    "wasmgate carries only HTTP(S) requests. A `{}://` rule parses (Spin accepts such rules for its other outbound APIs) but no request of this guest can match it.",
                    scheme(rule)
                ),
            )
            .fix("Write it for the HTTP endpoint the guest calls, e.g. --allow https://api.example.com, or drop it."),
        );
    }
    if !net.can_http() {
        if !ctx.rules.is_empty() && dead.len() < ctx.rules.len() {
            out.push(
                Finding::new(
                    "rules-unused",
                    Severity::Warning,
                    "The allow rules can never match anything this binary does: it has no way to make HTTP requests under wasmgate",
                    "It imports neither wasi:http (components) nor wasmgate's ABI (core modules), so no request of it ever reaches the policy; other findings say why, if it tries.",
                )
                .fix("Give the guest an HTTP client that uses wasi:http or wasmgate's ABI (see the other findings), or leave the rules out."),
            );
        }
        return out;
    }
    let how = if net.wasi_http {
        "wasi:http"
    } else {
        "wasmgate's ABI"
    };
    if ctx.rules.is_empty() && !ctx.policy_given {
        out.push(
            Finding::new(
                "no-rules",
                Severity::Info,
                format!("Makes HTTP requests ({how}); with no --allow rule wasmgate denies them all"),
                "Nothing is allowed by default. Pass doctor the same --allow flags or --config file you give `wasmgate run` to check them against this binary.",
            )
            .fix("Allow what the guest needs, e.g. wasmgate run --allow https://api.example.com app.wasm"),
        );
    } else if dead.len() == ctx.rules.len() {
        out.push(
            Finding::new(
                "policy-denies-all",
                Severity::Error,
                format!(
                    "Makes HTTP requests ({how}), but the given rules deny every request"
                ),
                if ctx.rules.is_empty() {
                    "The config file has no `allow` entries and no --allow flag was given: nothing is allowed by default.".to_string()
                } else {
                    "None of the rules can match an HTTP(S) request (see the rule-never-matches findings).".to_string()
                },
            )
            .fix("Add a rule for each endpoint the guest calls: --allow https://api.example.com, or `allow = [\"https://api.example.com\"]` in the config file."),
        );
    }
    if let Some(rule) = ctx
        .rules
        .iter()
        .find(|r| r.as_str().split_whitespace().last() == Some("*://*:*"))
    {
        out.push(
            Finding::new(
                "allows-everything",
                Severity::Warning,
                format!("Rule \"{rule}\" allows every URL: the egress policy is effectively off"),
                "Any host, port and path is allowed (special-range addresses such as loopback, private and cloud metadata are still refused unless named).",
            )
            .fix("Name the hosts the guest needs instead, e.g. --allow https://api.example.com"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        let r = |s| AllowRule::parse(s).unwrap();
        assert!(can_match_http(&r("https://a.example")));
        assert!(can_match_http(&r("GET,POST http://a.example/v1")));
        assert!(can_match_http(&r("*://a.example")));
        assert!(!can_match_http(&r("redis://cache.example:6379")));
        assert!(!can_match_http(&r("mysql://db.example")));
    }
}
