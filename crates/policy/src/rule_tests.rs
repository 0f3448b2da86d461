use super::*;
use RuleErrorKind::*;

fn rule(s: &str) -> AllowRule {
    AllowRule::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn accepts_rules() {
    let table: &[&str] = &[
        // Spin's allowed_outbound_hosts forms, verbatim.
        "https://example.com",
        "https://example.com:8443",
        "https://*.example.com",
        "*://example.com:*",
        "http://127.0.0.1:*",
        "*://*:*",
        "https://*",
        "http://localhost:3000",
        "http://localhost:3000/",
        "https://192.168.1.0/24",
        "tcp://10.0.0.0/8:5432",
        "http://[::1]:8080",
        "redis://cache.internal:6379",
        "mysql://db.internal",
        "postgres://db.internal:5432",
        "mqtt://broker:1883",
        "tcp://*:*",
        "http://example.com:8000..8100",
        // wasmgate additions.
        "GET https://api.example.com",
        "get,Post https://api.example.com/v1",
        "GET, POST https://api.example.com/v1/",
        "GET,POST https://*.example.com:8443/v1",
        "http://[fd00::/8]",
        "http://[fd00::]/8:8080",
        "http://10.0.0.1/32/v1",
        "HTTPS://Example.COM.",
        "  https://example.com  ",
        "git+ssh://example.com",
    ];
    for input in table {
        let r = rule(input);
        assert_eq!(r.as_str(), *input);
        assert_eq!(r.to_string(), *input);
        assert_eq!(input.parse::<AllowRule>().unwrap(), r);
    }
}

#[test]
fn does_not_accept_rules() {
    let table: &[(&str, RuleErrorKind, &str)] = &[
        ("", Empty, "the rule is empty"),
        ("   ", Empty, "the rule is empty"),
        (
            "https://{{ host }}",
            Template,
            "templates such as {{ host }} are a Spin feature",
        ),
        ("http://self", SelfHost, "Spin's \"self\" host"),
        ("http://self.alt:80", SelfHost, "runs no app to call back"),
        ("example.com", MissingScheme, "missing \"://\""),
        ("*", MissingScheme, "*://*:*"),
        ("htp://x", BadScheme, "unknown scheme \"htp\""),
        ("htps://x", BadScheme, "unknown scheme \"htps\""),
        ("htttp://x", BadScheme, "unknown scheme \"htttp\""),
        ("hhttp://x", BadScheme, "unknown scheme \"hhttp\""),
        ("1http://x", BadScheme, "is not a valid scheme"),
        ("ht_tp://x", BadScheme, "is not a valid scheme"),
        ("://x", BadScheme, "\"\" is not a valid scheme"),
        ("G T https://x", BadMethod, "not allowed in an HTTP method"),
        ("GET,,POST https://x", BadMethod, "has an empty entry"),
        ("GE(T https://x", BadMethod, "not allowed in an HTTP method"),
        ("https://", EmptyHost, "the host is empty"),
        ("https://:443", EmptyHost, "the host is empty"),
        ("https:///v1", EmptyHost, "the host is empty"),
        ("https://*foo.com", BadWildcard, "bad wildcard \"*foo.com\""),
        ("https://a.*.com", BadWildcard, "bad wildcard"),
        ("https://*.", BadWildcard, "bad wildcard"),
        ("https://*.*.com", BadWildcard, "bad wildcard"),
        ("https://foo*", BadWildcard, "bad wildcard"),
        ("https://exa mple.com", BadHost, "contains ' '"),
        ("https://a..com", BadHost, "empty label"),
        ("https://*.a..com", BadHost, "empty label"),
        ("https://[::1", BadAddress, "no closing ']'"),
        ("https://[zz::1]", BadAddress, "not a valid IPv6"),
        ("https://::1", BadAddress, "must be in brackets"),
        ("https://fd00::/8", BadAddress, "must be in brackets"),
        (
            "https://10.0.0.0/33",
            BadAddress,
            "prefix length \"33\" is not 0-32",
        ),
        ("https://[fd00::/129]", BadAddress, "is not 0-128"),
        ("https://999.1.1.1", BadAddress, "not a dotted IPv4"),
        ("https://127.1", BadAddress, "not a dotted IPv4"),
        ("https://h:0", BadPort, "port 0 cannot be dialled"),
        ("https://h:70000", BadPort, "out of range"),
        ("https://h:abc", BadPort, "\"abc\" is not a number"),
        ("https://h:", BadPort, "empty port"),
        ("https://h:/v1", BadPort, "empty port"),
        ("https://h:100..90", BadPort, "START must be below END"),
        ("https://h:100..100", BadPort, "START must be below END"),
        ("https://h:1..x", BadPort, "bad port range"),
        ("https://h:..9", BadPort, "bad port range"),
        ("https://h/a b", BadPath, "contains ' '"),
        ("https://h/v1?x=1", BadPath, "query (?) or fragment (#)"),
        ("https://h/v1#top", BadPath, "query (?) or fragment (#)"),
        ("https://h/v1/../admin", BadPath, ". or .. segment"),
        ("https://h/v1%2Fx", BadPath, "encoded slash"),
        ("https://h/v1;x", BadPath, "; path parameter"),
        ("https://h/v1%252e", BadPath, "encoded %"),
        ("https://h/v1%c0%ae", BadPath, "not valid UTF-8"),
        ("https://h/v1\\x", BadPath, "backslash"),
        ("https://h/v1|x", BadPath, "not a URL path character"),
        ("https://user@h", UserInfo, "credentials"),
        ("https://user:pw@h:443/", UserInfo, "credentials"),
    ];
    for (input, kind, fragment) in table {
        let err = AllowRule::parse(input).expect_err(input);
        assert_eq!(err.kind(), *kind, "{input}: {err}");
        let text = err.to_string();
        assert!(
            text.contains(fragment),
            "{input}: {text:?} lacks {fragment:?}"
        );
        assert!(
            text.starts_with(&format!("invalid allow rule {input:?}: ")),
            "{text}"
        );
        assert!(
            text.contains("e.g. --allow https://api.example.com"),
            "{text}"
        );
    }
}

#[test]
fn error_message_quotes_rule_grammar_and_example() {
    let err = AllowRule::parse("htp://x").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid allow rule \"htp://x\": unknown scheme \"htp\"; expected \
         [METHOD[,METHOD…] ]SCHEME://HOST[:PORT][/PATH-PREFIX] where SCHEME is http, https or *, \
         e.g. --allow https://api.example.com or --allow 'GET,POST https://*.example.com:8443/v1'"
    );
    let port = AllowRule::parse("https://h:0").unwrap_err().to_string();
    assert!(port.contains("where PORT is 1-65535, * or a range START..END (END excluded)"));
}

#[test]
fn matches_requests() {
    let table: &[(&str, &str, &str, bool)] = &[
        // Hosts and wildcards.
        ("https://example.com", "GET", "https://example.com/", true),
        ("https://example.com", "GET", "https://EXAMPLE.com./x", true),
        (
            "https://example.com",
            "GET",
            "https://www.example.com/",
            false,
        ),
        ("HTTPS://Example.COM.", "GET", "https://example.com/", true),
        (
            "https://*.example.com",
            "GET",
            "https://api.example.com/",
            true,
        ),
        (
            "https://*.example.com",
            "GET",
            "https://a.b.example.com/",
            true,
        ),
        (
            "https://*.example.com",
            "GET",
            "https://example.com/",
            false,
        ),
        (
            "https://*.example.com",
            "GET",
            "https://badexample.com/",
            false,
        ),
        (
            "https://*.example.com",
            "GET",
            "https://example.com.evil.org/",
            false,
        ),
        ("https://*", "GET", "https://anything.test/", true),
        ("https://*", "GET", "https://[::1]/", true),
        ("*://*:*", "PATCH", "http://10.0.0.1:1/x", true),
        // Schemes.
        ("https://example.com", "GET", "http://example.com/", false),
        ("http://example.com", "GET", "https://example.com/", false),
        ("*://example.com", "GET", "http://example.com/", true),
        ("*://example.com", "GET", "https://example.com/", true),
        ("redis://example.com:*", "GET", "http://example.com/", false),
        ("tcp://*:*", "GET", "http://example.com/", false),
        // Ports: default, explicit, `*`, range (end excluded).
        (
            "https://example.com",
            "GET",
            "https://example.com:443/",
            true,
        ),
        (
            "https://example.com",
            "GET",
            "https://example.com:8443/",
            false,
        ),
        (
            "http://example.com",
            "GET",
            "http://example.com:443/",
            false,
        ),
        ("*://example.com", "GET", "http://example.com:443/", false),
        ("*://example.com", "GET", "https://example.com:80/", false),
        (
            "https://example.com:8443",
            "GET",
            "https://example.com:8443/",
            true,
        ),
        (
            "https://example.com:8443",
            "GET",
            "https://example.com/",
            false,
        ),
        ("*://example.com:*", "GET", "http://example.com:9999/", true),
        (
            "http://localhost:3000",
            "GET",
            "http://localhost:3000/",
            true,
        ),
        (
            "http://localhost:3000",
            "GET",
            "http://localhost:3001/",
            false,
        ),
        ("http://h:8000..8100", "GET", "http://h:8000/", true),
        ("http://h:8000..8100", "GET", "http://h:8099/", true),
        ("http://h:8000..8100", "GET", "http://h:8100/", false),
        ("http://h:8000..8100", "GET", "http://h:7999/", false),
        // Methods: see also accepts_methods / does_not_accept_methods.
        ("GET http://h", "GET", "http://h/", true),
        ("GET http://h", "POST", "http://h/", false),
        ("get,post http://h", "POST", "http://h/", true),
        ("GET,POST http://h", "DELETE", "http://h/", false),
        ("http://h", "PROPFIND", "http://h/", true),
        // Path prefixes, at segment boundaries.
        ("http://h/v1", "GET", "http://h/v1", true),
        ("http://h/v1", "GET", "http://h/v1/", true),
        ("http://h/v1", "GET", "http://h/v1/x/y", true),
        ("http://h/v1", "GET", "http://h/v1?q=1", true),
        ("http://h/v1", "GET", "http://h/v10", false),
        ("http://h/v1", "GET", "http://h/", false),
        ("http://h/v1", "GET", "http://h/V1", false),
        ("http://h/v1", "GET", "http://h/x?/v1", false),
        ("http://h/v1/", "GET", "http://h/v1/x", true),
        ("http://h/v1/", "GET", "http://h/v1", false),
        ("http://h/", "GET", "http://h/anything", true),
        ("http://h", "GET", "http://h/anything", true),
        ("http://h/v1", "GET", "http://h/v1/../admin", false),
        ("http://h/v1", "GET", "http://h/v1/%2e%2E/admin", false),
        ("http://h/v1", "GET", "http://h/v1%2F..%2Fadmin", false),
        ("http://h/v1", "GET", "http://h/v1\\..\\admin", false),
        // Paths servers normalise differently never match a prefix; the
        // class is table-tested in path_normalization_tests.rs.
        ("http://h/api", "GET", "http://h/api/..;/admin", false),
        ("http://h/api", "GET", "http://h/api;x/../admin", false),
        (
            "http://h/api",
            "GET",
            "http://h/api/%252e%252e/admin",
            false,
        ),
        ("http://h/api", "GET", "http://h/api/%252f", false),
        ("http://h/api", "GET", "http://h/api/%255c", false),
        (
            "http://h/api",
            "GET",
            "http://h/api/%c0%ae%c0%ae/admin",
            false,
        ),
        (
            "http://h/api",
            "GET",
            "http://h/api/%e0%80%ae%e0%80%ae/x",
            false,
        ),
        ("http://h/api", "GET", "http://h/api/%c0%af", false),
        ("http://h/api", "GET", "http://h/api/%5c..%5cadmin", false),
        ("http://h/api", "GET", "http://h/api/%00/x", false),
        (
            "http://h/api",
            "GET",
            "http://h/api/%ef%bc%8e%ef%bc%8e/x",
            false,
        ),
        ("http://h/api/", "GET", "http://h/api/..;/admin", false),
        ("http://h/api", "GET", "http://h/api/x?q=..;/%252e", true),
        ("http://h/api", "GET", "http://h/api/Caf%C3%A9", true),
        ("http://h", "GET", "http://h/api/..;/admin", true),
        ("http://h/", "GET", "http://h/api/%252e%252e/admin", true),
        ("http://h", "GET", "http://h/v1/../admin", true),
        // IPv6 literals and CIDRs.
        ("http://[::1]:8080", "GET", "http://[::1]:8080/", true),
        ("http://[::1]:8080", "GET", "http://[0:0::1]:8080/", true),
        ("http://[::1]:8080", "GET", "http://[::2]:8080/", false),
        ("http://[::1]:8080", "GET", "http://localhost:8080/", false),
        ("http://127.0.0.1:*", "GET", "http://127.0.0.1:5000/", true),
        (
            "http://127.0.0.1:*",
            "GET",
            "http://[::ffff:127.0.0.1]:5000/",
            true,
        ),
        ("http://127.0.0.1:*", "GET", "http://127.0.0.2:5000/", false),
        (
            "https://192.168.1.0/24",
            "GET",
            "https://192.168.1.77/",
            true,
        ),
        (
            "https://192.168.1.0/24",
            "GET",
            "https://192.168.2.1/",
            false,
        ),
        (
            "https://192.168.1.0/24",
            "GET",
            "https://router.lan/",
            false,
        ),
        (
            "http://10.0.0.0/8:8080/api",
            "GET",
            "http://10.9.8.7:8080/api/x",
            true,
        ),
        (
            "http://10.0.0.0/8:8080/api",
            "GET",
            "http://10.9.8.7:8080/web",
            false,
        ),
        ("http://10.0.0.1/32/8", "GET", "http://10.0.0.1/8", true),
        ("http://[fd00::/8]", "GET", "http://[fd12::1]/", true),
        ("http://[fd00::]/8", "GET", "http://[fd12::1]/", true),
        ("http://[fd00::/8]", "GET", "http://[fe80::1]/", false),
    ];
    for (r, method, url, want) in table {
        let t = RequestTarget::parse(method, url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(rule(r).matches(&t), *want, "rule {r:?} vs {method} {url}");
    }
}

/// Rule, request method, why the rule allows it.
#[test]
fn accepts_methods() {
    let table: &[(&str, &str, &str)] = &[
        ("GET http://h", "GET", "the same bytes"),
        (
            "get http://h",
            "GET",
            "a rule's methods are upper-cased when parsed",
        ),
        (
            "Get,post http://h",
            "POST",
            "each listed method is upper-cased",
        ),
        ("propfind http://h", "PROPFIND", "extension methods too"),
        (
            "http://h",
            "get",
            "no method list allows any method, in any case",
        ),
        (
            "http://h",
            "GeT",
            "no method list allows any method, in any case",
        ),
        (
            "*://*:*",
            "m-search",
            "no method list allows any method, in any case",
        ),
    ];
    for (r, method, why) in table {
        let t = RequestTarget::parse(method, "http://h/").unwrap();
        assert!(rule(r).matches(&t), "rule {r:?} vs {method}: {why}");
    }
}

/// Rule, request method, why the rule does not allow it: the request goes
/// out with the method as written, so matching it case-insensitively would
/// let a method through that the rule never named.
#[test]
fn does_not_accept_methods() {
    let table: &[(&str, &str, &str)] = &[
        (
            "GET http://h",
            "get",
            "methods are case-sensitive: get is not GET",
        ),
        ("GET http://h", "GeT", "mixed case is another method too"),
        ("GET http://h", "gET", "any lowercase letter"),
        (
            "get http://h",
            "get",
            "the rule means GET, and the request sends get",
        ),
        ("GET,POST http://h", "post", "each listed method is exact"),
        ("PATCH http://h", "patch", "fetch() sends patch as written"),
        (
            "PROPFIND http://h",
            "propfind",
            "extension methods are exact too",
        ),
        (
            "DELETE http://h",
            "DELETE ",
            "a method is a token; no trimming",
        ),
    ];
    for (r, method, why) in table {
        match RequestTarget::parse(method, "http://h/") {
            Ok(t) => assert!(!rule(r).matches(&t), "rule {r:?} vs {method:?}: {why}"),
            Err(e) => assert!(method.contains(' '), "{method:?}: {e}"),
        }
    }
}

#[test]
fn names_addresses_literally() {
    let table: &[(&str, &str, bool)] = &[
        ("http://127.0.0.1:8080", "127.0.0.1", true),
        ("http://127.0.0.1:8080", "::ffff:127.0.0.1", true),
        ("http://127.0.0.1:8080", "127.0.0.2", false),
        ("http://[::1]", "::1", true),
        ("http://[::1]", "127.0.0.1", false),
        ("http://localhost:3000", "127.0.0.1", true),
        ("http://localhost:3000", "127.8.9.10", true),
        ("http://localhost:3000", "::1", true),
        ("http://LOCALHOST.", "::1", true),
        ("http://localhost:3000", "10.0.0.1", false),
        ("http://10.0.0.0/8", "10.255.0.1", true),
        ("http://10.0.0.0/8", "::ffff:10.1.1.1", true),
        ("http://10.0.0.0/8", "11.0.0.1", false),
        ("http://[fd00::/8]", "fd00:ec2::254", true),
        ("http://*", "127.0.0.1", false),
        ("http://*.localhost", "127.0.0.1", false),
        ("http://internal.example.com", "10.0.0.1", false),
    ];
    for (r, ip, want) in table {
        assert_eq!(
            rule(r).names_address(ip.parse().unwrap()),
            *want,
            "{r} {ip}"
        );
    }
}

#[test]
fn recognises_scheme_typos_only_one_edit_away() {
    let table: &[(&str, &str, bool)] = &[
        ("htp", "http", true),
        ("htpt", "http", true),
        ("httpx", "http", true),
        ("hxtp", "http", true),
        ("http", "http", true),
        ("tcp", "http", false),
        ("ftp", "http", false),
        ("redis", "https", false),
        ("ws", "http", false),
    ];
    for (a, b, want) in table {
        assert_eq!(edit_distance_at_most_one(a, b), *want, "{a} vs {b}");
    }
}

/// A 10 KB rule, whatever part of it is long, is quoted only up to
/// [`crate::error::MAX_QUOTED`] bytes, with an ellipsis and its length.
#[test]
fn long_rules_are_quoted_only_in_part() {
    use crate::error::MAX_QUOTED;
    let long = "a".repeat(10_000);
    let table: &[(String, RuleErrorKind)] = &[
        (format!("http://{long}.example.com"), BadHost),
        (format!("http://example.com/{long} x"), BadPath),
        (format!("GET,,{long} http://example.com"), BadMethod),
        (format!("h{long}!://example.com"), BadScheme),
        (format!("http://example.com:1..{long}"), BadPort),
        (
            format!("http://example.com:{}", "9".repeat(10_000)),
            BadPort,
        ),
        (format!("http://*{long}"), BadWildcard),
        (long.clone(), MissingScheme),
    ];
    for (input, kind) in table {
        let Err(err) = AllowRule::parse(input) else {
            panic!("the {kind:?} case parsed")
        };
        assert_eq!(err.kind(), *kind, "{}", &err.to_string()[..800]);
        let msg = err.to_string();
        let start = format!(
            "invalid allow rule {:?}… ({} bytes): ",
            &input[..MAX_QUOTED],
            input.len()
        );
        assert!(msg.starts_with(&start), "{}", &msg[..msg.len().min(800)]);
        // The rule and at most one quoted part of it, plus the grammar and examples.
        assert!(
            msg.len() < 3 * MAX_QUOTED + 500,
            "{} bytes: {msg}",
            msg.len()
        );
        assert_eq!(err.input(), input.trim(), "the error keeps the whole rule");
    }
    // A rule within the bound is quoted whole.
    let err = AllowRule::parse("htp://example.com").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid allow rule \"htp://example.com\": "),
        "{err}"
    );
}
