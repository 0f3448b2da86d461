use super::*;
use crate::address::parse_cidr;

fn policy(rules: &[&str], cidrs: &[&str]) -> Policy {
    Policy::new(
        rules.iter().map(|r| AllowRule::parse(r).unwrap()).collect(),
        cidrs.iter().map(|c| parse_cidr(c).unwrap()).collect(),
        Limits::default(),
    )
}

fn target(method: &str, url: &str) -> RequestTarget {
    RequestTarget::parse(method, url).unwrap_or_else(|e| panic!("{url}: {e}"))
}

/// Undoes `shell_quote` for the quoting it produces.
fn unquote(s: &str) -> String {
    match s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        Some(inner) => inner.replace(r"'\''", "'"),
        None => s.to_owned(),
    }
}

/// Rules, method, URL, reason, message, suggestion.
type DenialCase<'a> = (
    &'a [&'a str],
    &'a str,
    &'a str,
    DenialReason,
    &'a str,
    &'a str,
);

#[test]
fn explains_denials_and_suggests_flags() {
    use DenialReason::*;
    let table: &[DenialCase] = &[
        (
            &[],
            "GET",
            "http://127.0.0.1:8080/x",
            NoRules,
            "no --allow rules were given: every request is denied by default",
            "--allow http://127.0.0.1:8080",
        ),
        (
            &["https://api.example.com"],
            "GET",
            "http://127.0.0.1:8080/",
            HostNotAllowed,
            "no --allow rule matches host 127.0.0.1:8080",
            "--allow http://127.0.0.1:8080",
        ),
        (
            &["https://*.example.com"],
            "GET",
            "https://example.com/",
            HostNotAllowed,
            "no --allow rule matches host example.com",
            "--allow https://example.com",
        ),
        (
            &["https://api.example.com"],
            "GET",
            "http://api.example.com/v1",
            SchemeNotAllowed,
            "rule \"https://api.example.com\" allows https only, not http",
            "--allow http://api.example.com",
        ),
        (
            &["redis://h:*"],
            "GET",
            "http://h/",
            SchemeNotAllowed,
            "rule \"redis://h:*\" allows redis only, not http",
            "--allow http://h",
        ),
        (
            &["http://h"],
            "GET",
            "http://h:8080/",
            PortNotAllowed,
            "rule \"http://h\" allows port 80 only, not 8080",
            "--allow http://h:8080",
        ),
        (
            &["http://h:8000..8100"],
            "GET",
            "http://h:8100/",
            PortNotAllowed,
            "rule \"http://h:8000..8100\" allows ports 8000 to 8099 only, not 8100",
            "--allow http://h:8100",
        ),
        (
            &["GET http://127.0.0.1:8080"],
            "POST",
            "http://127.0.0.1:8080/",
            MethodNotAllowed,
            "rule \"GET http://127.0.0.1:8080\" does not allow method POST",
            "--allow 'POST http://127.0.0.1:8080'",
        ),
        (
            &["GET http://h/v1"],
            "POST",
            "http://h/v1/items",
            MethodNotAllowed,
            "rule \"GET http://h/v1\" does not allow method POST",
            "--allow 'POST http://h/v1'",
        ),
        (
            &["http://h:8080/v1"],
            "GET",
            "http://h:8080/admin?x=1",
            PathNotAllowed,
            "rule \"http://h:8080/v1\" allows paths under /v1, not /admin",
            "--allow http://h:8080/admin",
        ),
        (
            &["GET http://h/v1"],
            "GET",
            "http://h/admin",
            PathNotAllowed,
            "rule \"GET http://h/v1\" allows paths under /v1, not /admin",
            "--allow 'GET http://h/admin'",
        ),
        (
            &["http://h/v1"],
            "GET",
            "http://h/v1/../admin",
            PathNotAllowed,
            "rule \"http://h/v1\" allows paths under /v1, not /v1/../admin: the path has a . or .. segment (also percent-encoded or padded with spaces), and such paths never match a path prefix",
            "--allow http://h",
        ),
        (
            &["GET http://h/api"],
            "GET",
            "http://h/api/..;/admin",
            PathNotAllowed,
            "rule \"GET http://h/api\" allows paths under /api, not /api/..;/admin: the path has a ; path parameter, which some servers strip (..;/ is ../), and such paths never match a path prefix",
            "--allow 'GET http://h'",
        ),
        (
            &["http://h/api"],
            "GET",
            "http://h/api/%c0%ae%c0%ae/admin",
            PathNotAllowed,
            "rule \"http://h/api\" allows paths under /api, not /api/%c0%ae%c0%ae/admin: the path has encoded bytes that are not valid UTF-8 (such as overlong %C0%AE), and such paths never match a path prefix",
            "--allow http://h",
        ),
        // A lowercase method: no method list can name it (rules upper-case
        // theirs), so the suggestion is a rule without methods, and says so.
        (
            &["GET http://h/api"],
            "get",
            "http://h/api/x",
            MethodNotAllowed,
            "rule \"GET http://h/api\" does not allow method get: HTTP methods are case-sensitive and a rule's methods are uppercase, so only a rule without methods (any method) allows get",
            "--allow http://h/api",
        ),
        (
            &["GET,POST http://h"],
            "GeT",
            "http://h/",
            MethodNotAllowed,
            "rule \"GET,POST http://h\" does not allow method GeT: HTTP methods are case-sensitive and a rule's methods are uppercase, so only a rule without methods (any method) allows GeT",
            "--allow http://h",
        ),
        // Methods are checked before paths, so a method miss may hide a path
        // miss: the suggestion then names the request's path.
        (
            &["GET http://h/v1"],
            "POST",
            "http://h/v2",
            MethodNotAllowed,
            "rule \"GET http://h/v1\" does not allow method POST",
            "--allow 'POST http://h/v2'",
        ),
        (
            &["GET http://h/v1"],
            "POST",
            "http://h/v1/..;/x",
            MethodNotAllowed,
            "rule \"GET http://h/v1\" does not allow method POST",
            "--allow 'POST http://h'",
        ),
        (
            &["GET http://h/v1"],
            "get",
            "http://h/v2",
            MethodNotAllowed,
            "rule \"GET http://h/v1\" does not allow method get: HTTP methods are case-sensitive and a rule's methods are uppercase, so only a rule without methods (any method) allows get",
            "--allow http://h/v2",
        ),
        (
            &["GET http://h/v1", "get http://h"],
            "get",
            "http://h/v2",
            MethodNotAllowed,
            "rule \"GET http://h/v1\" does not allow method get: HTTP methods are case-sensitive and a rule's methods are uppercase, so only a rule without methods (any method) allows get",
            "--allow http://h/v2",
        ),
        (
            &["http://h/v1"],
            "get",
            "http://h/v2",
            PathNotAllowed,
            "rule \"http://h/v1\" allows paths under /v1, not /v2",
            "--allow http://h/v2",
        ),
        (
            &["http://h/v1"],
            "GET",
            "http://h/a&b",
            PathNotAllowed,
            "rule \"http://h/v1\" allows paths under /v1, not /a&b",
            "--allow 'http://h/a&b'",
        ),
        (
            &["http://h/v1"],
            "GET",
            "http://h/it's",
            PathNotAllowed,
            "rule \"http://h/v1\" allows paths under /v1, not /it's",
            r"--allow 'http://h/it'\''s'",
        ),
        (
            &[],
            "GET",
            "http://[::1]:8080/",
            NoRules,
            "no --allow rules were given: every request is denied by default",
            "--allow 'http://[::1]:8080'",
        ),
        (
            &["http://10.0.0.1:8080/v1"],
            "GET",
            "http://10.0.0.1:8080/8/x",
            PathNotAllowed,
            "rule \"http://10.0.0.1:8080/v1\" allows paths under /v1, not /8/x",
            "--allow http://10.0.0.1/32:8080/8/x",
        ),
        (
            &["http://[::1]/v1"],
            "GET",
            "http://[::1]/2024",
            PathNotAllowed,
            "rule \"http://[::1]/v1\" allows paths under /v1, not /2024",
            "--allow 'http://[::1]/128/2024'",
        ),
        // The closest miss wins: the method rule got further than the scheme rule.
        (
            &["https://other.com", "https://h", "GET http://h"],
            "POST",
            "http://h/",
            MethodNotAllowed,
            "rule \"GET http://h\" does not allow method POST",
            "--allow 'POST http://h'",
        ),
        // Ties go to the first rule.
        (
            &["http://h:81", "http://h:82"],
            "GET",
            "http://h:83/",
            PortNotAllowed,
            "rule \"http://h:81\" allows port 81 only, not 83",
            "--allow http://h:83",
        ),
    ];
    for (rules, method, url, reason, message, suggestion) in table {
        let p = policy(rules, &[]);
        let t = target(method, url);
        let denial = p.check_request(&t).expect_err(url);
        assert_eq!(denial.reason, *reason, "{url}");
        assert_eq!(denial.to_string(), *message, "{url}");
        assert_eq!(denial.suggestion, *suggestion, "{url}");
        // The suggestion must be a valid rule that allows the request, unless
        // the path is one no path rule can allow (then it has no path).
        let text = unquote(denial.suggestion.strip_prefix("--allow ").unwrap());
        let suggested = AllowRule::parse(&text).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(suggested.matches(&t), "{url}: {text} does not match");
        let fixed = Policy::new(vec![suggested], vec![], Limits::default());
        assert!(fixed.check_request(&t).is_ok(), "{url}");
    }
}

#[test]
fn returns_the_first_rule_that_allows() {
    let p = policy(&["http://h/v1", "GET http://h", "*://*:*"], &[]);
    let table: &[(&str, &str, &str)] = &[
        ("GET", "http://h/v1/x", "http://h/v1"),
        ("GET", "http://h/x", "GET http://h"),
        ("POST", "http://h/x", "*://*:*"),
        ("POST", "https://other:9/", "*://*:*"),
    ];
    for (method, url, want) in table {
        let got = p.check_request(&target(method, url)).unwrap();
        assert_eq!(got.as_str(), *want, "{method} {url}");
    }
    assert!(Policy::deny_all().rules().is_empty());
    assert_eq!(Policy::deny_all().limits(), &Limits::default());
}

/// Rule, allowed CIDRs, resolved address, expected denial (range, suggestion).
type AddressCase<'a> = (
    &'a str,
    &'a [&'a str],
    &'a str,
    Option<(SpecialRange, &'a str)>,
);

// The addresses here are only values being checked, never contacted.
#[test]
fn checks_resolved_addresses() {
    let table: &[AddressCase] = &[
        ("https://api.example.com", &[], "8.8.8.8", None),
        ("https://api.example.com", &[], "2606:4700::1111", None),
        ("http://127.0.0.1:8080", &[], "127.0.0.1", None),
        ("http://localhost:3000", &[], "127.0.0.1", None),
        ("http://localhost:3000", &[], "::1", None),
        ("http://10.0.0.0/8", &[], "10.1.2.3", None),
        ("https://api.example.com", &["10.0.0.0/8"], "10.1.2.3", None),
        (
            "https://api.example.com",
            &["10.0.0.0/8"],
            "::ffff:10.1.2.3",
            None,
        ),
        (
            "https://api.example.com",
            &["::ffff:0:0/96"],
            "::ffff:127.0.0.1",
            None,
        ),
        (
            "https://api.example.com",
            &[],
            "127.0.0.1",
            Some((SpecialRange::Loopback, "--allow-cidr 127.0.0.1/32")),
        ),
        (
            "https://api.example.com",
            &["10.0.0.0/8"],
            "192.168.0.1",
            Some((SpecialRange::Private, "--allow-cidr 192.168.0.1/32")),
        ),
        (
            "*://*:*",
            &[],
            "::ffff:169.254.169.254",
            Some((
                SpecialRange::CloudMetadata,
                "--allow-cidr 169.254.169.254/32",
            )),
        ),
        (
            "http://localhost",
            &[],
            "10.0.0.1",
            Some((SpecialRange::Private, "--allow-cidr 10.0.0.1/32")),
        ),
        (
            "https://*.example.com",
            &[],
            "::1",
            Some((SpecialRange::Loopback, "--allow-cidr ::1/128")),
        ),
        (
            "http://127.0.0.1",
            &[],
            "127.0.0.2",
            Some((SpecialRange::Loopback, "--allow-cidr 127.0.0.2/32")),
        ),
        // Same-host forms are the IPv4 address: naming it opts them in.
        ("http://127.0.0.1", &[], "::ffff:0:127.0.0.1", None),
        (
            "https://api.example.com",
            &["10.0.0.0/8"],
            "::ffff:0:10.1.2.3",
            None,
        ),
        (
            "https://api.example.com",
            &[],
            "::ffff:0:169.254.169.254",
            Some((
                SpecialRange::CloudMetadata,
                "--allow-cidr 169.254.169.254/32",
            )),
        ),
        // Tunnelled forms: only naming the IPv6 address opts in.
        ("http://[2002:7f00:1::1]", &[], "2002:7f00:1::1", None),
        ("http://[2002::/16]", &[], "2002:a01:203::1", None),
        (
            "https://api.example.com",
            &["2002::/16"],
            "2002:a01:203::1",
            None,
        ),
        (
            "https://api.example.com",
            &["10.0.0.0/8"],
            "2002:a01:203::1",
            Some((SpecialRange::Private, "--allow-cidr 2002:a01:203::1/128")),
        ),
        (
            "http://127.0.0.1",
            &["127.0.0.0/8"],
            "2002:7f00:1::1",
            Some((SpecialRange::Loopback, "--allow-cidr 2002:7f00:1::1/128")),
        ),
        (
            "http://localhost",
            &[],
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            Some((
                SpecialRange::Loopback,
                "--allow-cidr 2001:0:4136:e378:8000:63bf:80ff:fffe/128",
            )),
        ),
        (
            "*://*:*",
            &[],
            "2a00:1450:4001:1:0:5efe:a9fe:a9fe",
            Some((
                SpecialRange::CloudMetadata,
                "--allow-cidr 2a00:1450:4001:1:0:5efe:a9fe:a9fe/128",
            )),
        ),
        ("*://*:*", &[], "2002:808:808::1", None),
        // NAT64 local-use is refused as a whole unless its IPv6 address is named.
        (
            "https://api.example.com",
            &["0.0.0.0/0"],
            "64:ff9b:1::808:808",
            Some((
                SpecialRange::LocalUseNat64,
                "--allow-cidr 64:ff9b:1::808:808/128",
            )),
        ),
        (
            "https://api.example.com",
            &["64:ff9b:1::/48"],
            "64:ff9b:1::a01:203",
            None,
        ),
    ];
    for (rule, cidrs, ip, want) in table {
        let p = policy(&[*rule], cidrs);
        let ip: IpAddr = ip.parse().unwrap();
        let got = p.check_address(&p.rules()[0], ip);
        match want {
            None => assert_eq!(got, Ok(()), "{rule} {ip}"),
            Some((range, suggestion)) => {
                let denial = got.expect_err(&format!("{rule} {ip}"));
                assert_eq!(denial.ip, ip);
                assert_eq!(denial.range, *range, "{rule} {ip}");
                assert_eq!(denial.suggestion, *suggestion, "{rule} {ip}");
                // Following the suggestion allows the address.
                let cidr = parse_cidr(suggestion.strip_prefix("--allow-cidr ").unwrap()).unwrap();
                let fixed = Policy::new(p.rules().to_vec(), vec![cidr], Limits::default());
                assert_eq!(
                    fixed.check_address(&p.rules()[0], ip),
                    Ok(()),
                    "{rule} {ip}"
                );
            }
        }
    }
}

#[test]
fn describes_address_denials() {
    let p = policy(&["https://api.example.com"], &[]);
    let table: &[(&str, &str)] = &[
        (
            "127.0.0.1",
            "address 127.0.0.1 is loopback and no rule names it",
        ),
        (
            "::ffff:169.254.169.254",
            "address ::ffff:169.254.169.254 (169.254.169.254) is cloud metadata and no rule names it",
        ),
        (
            "10.0.0.1",
            "address 10.0.0.1 is private (RFC 1918) and no rule names it",
        ),
        (
            "fe80::1",
            "address fe80::1 is link-local and no rule names it",
        ),
        (
            "::ffff:0:10.1.2.3",
            "address ::ffff:0:a01:203 (10.1.2.3) is private (RFC 1918) and no rule names it",
        ),
        (
            "2002:7f00:1::1",
            "address 2002:7f00:1::1 (6to4, carrying 127.0.0.1) is loopback and no rule names it",
        ),
        (
            "2001:0:a9fe:a9fe::f7f7:f7f7",
            "address 2001:0:a9fe:a9fe::f7f7:f7f7 (Teredo server, carrying 169.254.169.254) is cloud metadata and no rule names it",
        ),
        (
            "2001:0:4136:e378:8000:63bf:f5fe:fdfc",
            "address 2001:0:4136:e378:8000:63bf:f5fe:fdfc (Teredo client, carrying 10.1.2.3) is private (RFC 1918) and no rule names it",
        ),
        (
            "2a00:1450:4001:1:0:5efe:6440:1",
            "address 2a00:1450:4001:1:0:5efe:6440:1 (ISATAP, carrying 100.64.0.1) is shared carrier-grade NAT space (RFC 6598) and no rule names it",
        ),
        (
            "64:ff9b:1::808:808",
            "address 64:ff9b:1::808:808 is NAT64 local-use (64:ff9b:1::/48) and no rule names it",
        ),
    ];
    for (ip, want) in table {
        let denial = p
            .check_address(&p.rules()[0], ip.parse().unwrap())
            .unwrap_err();
        assert_eq!(denial.to_string(), *want);
    }
}
