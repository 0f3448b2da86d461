use super::*;
use Ambiguity::*;

#[test]
fn accepts_paths() {
    // Path, why every server reads it as written.
    let table: &[(&str, &str)] = &[
        ("/", "the root"),
        ("/api", "plain segment"),
        ("/api/v1/users/42", "several plain segments"),
        ("/api//x", "an empty segment is not a dot segment"),
        ("/api/v1.2/file.tar.gz", "dots inside a segment"),
        ("/api/.well-known", "a segment starting with a dot"),
        ("/api/x..", "a segment ending in dots has other characters"),
        ("/api/%2e%2ex", "encoded dots inside a longer segment"),
        ("/api/a-b_c~d", "unreserved characters"),
        ("/api/!$&'()*+,=:@", "sub-delimiters, ':' and '@'"),
        ("/api/a%20b", "an encoded space inside a segment"),
        ("/api/%41%42", "encoded letters decode to letters"),
        ("/api/x%3Fy%23z", "encoded ? and # only shorten a path"),
        ("/wiki/Caf%C3%A9", "valid UTF-8 (é)"),
        ("/wiki/%E6%97%A5%E6%9C%AC", "valid UTF-8 (日本)"),
        ("/emoji/%F0%9F%98%80", "valid 4-byte UTF-8"),
    ];
    for (path, why) in table {
        assert_eq!(ambiguity(path), None, "{path}: {why}");
    }
}

#[test]
fn does_not_accept_paths() {
    // Path, the reason found, how a server resolves it elsewhere.
    let table: &[(&str, Ambiguity, &str)] = &[
        ("/api/../admin", DotSegment, "plain dot-dot"),
        ("/api/./x", DotSegment, "plain dot"),
        ("/api/..", DotSegment, "dot-dot at the end"),
        ("/api/%2e%2e/admin", DotSegment, "encoded dot-dot"),
        ("/api/%2E./admin", DotSegment, "half-encoded dot-dot"),
        ("/api/.%2e/admin", DotSegment, "half-encoded dot-dot"),
        ("/api/.../admin", DotSegment, "Windows strips trailing dots"),
        (
            "/api/..%20/admin",
            DotSegment,
            "Windows strips trailing spaces",
        ),
        (
            "/api/..+/admin",
            DotSegment,
            "+ is a space to form decoders",
        ),
        (
            "/api/..;/admin",
            PathParameter,
            "Tomcat/Spring/Jetty: ..;/ is ../",
        ),
        (
            "/api;x/../admin",
            PathParameter,
            "a parameter in the prefix segment",
        ),
        ("/api/x;jsessionid=1", PathParameter, "any ; at all"),
        (
            "/api/%3b/x",
            EncodedSeparator,
            "servers that decode first see ;",
        ),
        ("/api%2f..%2fadmin", EncodedSeparator, "encoded slash"),
        ("/api/%2F", EncodedSeparator, "encoded slash, upper case"),
        ("/api/..%5cadmin", EncodedSeparator, "encoded backslash"),
        ("/api\\..\\admin", Backslash, "raw backslash"),
        ("/api/x\\", Backslash, "any raw backslash"),
        (
            "/api/%252e%252e/admin",
            EncodedPercent,
            "double-encoded dots",
        ),
        ("/api/%252f", EncodedPercent, "double-encoded slash"),
        ("/api/%255c", EncodedPercent, "double-encoded backslash"),
        ("/api/%25", EncodedPercent, "any encoded %"),
        ("/api/%u002e%u002e/admin", BadEscape, "IIS %u escapes"),
        ("/api/%2", BadEscape, "truncated escape"),
        ("/api/%zz", BadEscape, "non-hex escape"),
        ("/api/%", BadEscape, "lone %"),
        ("/api/%00/x", EncodedControl, "NUL truncates in C servers"),
        ("/api/..%00/admin", EncodedControl, "NUL after dots"),
        ("/api/%0a", EncodedControl, "line feed"),
        ("/api/%0D%0A", EncodedControl, "CRLF"),
        ("/api/%09", EncodedControl, "tab"),
        ("/api/%7f", EncodedControl, "DEL"),
        ("/api/%c0%ae%c0%ae/admin", InvalidUtf8, "2-byte overlong ."),
        ("/api/%e0%80%ae", InvalidUtf8, "3-byte overlong ."),
        ("/api/%f0%80%80%ae", InvalidUtf8, "4-byte overlong ."),
        ("/api/%c0%af", InvalidUtf8, "2-byte overlong /"),
        ("/api/%e0%80%af", InvalidUtf8, "3-byte overlong /"),
        ("/api/%c1%9c", InvalidUtf8, "2-byte overlong \\"),
        ("/api/%c0%80", InvalidUtf8, "overlong NUL"),
        ("/api/%ed%a0%80", InvalidUtf8, "a UTF-16 surrogate"),
        ("/api/%c3", InvalidUtf8, "a truncated sequence"),
        ("/api/%80", InvalidUtf8, "a stray continuation byte"),
        (
            "/api/%e9",
            InvalidUtf8,
            "Latin-1 é: servers guess the charset",
        ),
        ("/api/%f4%90%80%80", InvalidUtf8, "above U+10FFFF"),
        (
            "/api/%ef%bc%8e%ef%bc%8e/admin",
            LookAlike('．'),
            "fullwidth dots (NFKC)",
        ),
        ("/api/%ef%bc%8fadmin", LookAlike('／'), "fullwidth slash"),
        ("/api/%ef%bc%bc", LookAlike('＼'), "fullwidth backslash"),
        ("/api/%ef%bc%85", LookAlike('％'), "fullwidth percent"),
        ("/api/%ef%bc%9b", LookAlike('；'), "fullwidth semicolon"),
        (
            "/api/%cd%be",
            LookAlike('\u{37e}'),
            "Greek question mark is ; in NFKC",
        ),
        (
            "/api/%e2%80%a5",
            LookAlike('‥'),
            "two dot leader is .. in NFKC",
        ),
        ("/api/%e2%80%a4", LookAlike('․'), "one dot leader"),
        ("/api/%ef%b9%92", LookAlike('﹒'), "small full stop"),
        (
            "/api/%e2%88%95",
            LookAlike('∕'),
            "division slash, Windows best-fit /",
        ),
        ("/api/%c2%a5", LookAlike('¥'), "yen is \\ in code page 932"),
        (
            "/api/%e2%82%a9",
            LookAlike('₩'),
            "won is \\ in code page 949",
        ),
        ("/api/%e3%80%82", LookAlike('。'), "ideographic full stop"),
        ("/api/.%c2%ad.", LookAlike('\u{ad}'), "soft hyphen, dropped"),
        (
            "/api/.%e2%80%8b.",
            LookAlike('\u{200b}'),
            "zero-width space",
        ),
        ("/api/%c2%a0", LookAlike('\u{a0}'), "no-break space"),
        ("/api/%c2%85", LookAlike('\u{85}'), "C1 control (NEL)"),
        ("/api/%ef%bb%bf", LookAlike('\u{feff}'), "byte order mark"),
        ("/api/%f3%a0%80%81", LookAlike('\u{e0001}'), "tag character"),
        (
            "/api/a|b",
            Character('|'),
            "outside RFC 3986 path characters",
        ),
        (
            "/api/{id}",
            Character('{'),
            "outside RFC 3986 path characters",
        ),
        (
            "/api/[x]",
            Character('['),
            "outside RFC 3986 path characters",
        ),
        (
            "/api/\"x\"",
            Character('"'),
            "outside RFC 3986 path characters",
        ),
        (
            "/api/<x>",
            Character('<'),
            "outside RFC 3986 path characters",
        ),
        (
            "/api/^`",
            Character('^'),
            "outside RFC 3986 path characters",
        ),
        ("/api/é", Character('é'), "raw non-ASCII"),
        ("/api/a b", Character(' '), "raw space"),
        ("/api/\0", Character('\0'), "raw NUL"),
    ];
    for (path, want, why) in table {
        assert_eq!(ambiguity(path), Some(*want), "{path}: {why}");
        assert!(is_ambiguous_path(path), "{path}");
    }
}

#[test]
fn look_alike_ranges_are_sorted_and_disjoint() {
    for pair in LOOK_ALIKES.windows(2) {
        assert!(pair[0].0 <= pair[0].1, "{pair:?}");
        assert!(pair[0].1 < pair[1].0, "{pair:?}");
    }
    assert!(!is_look_alike('a'));
    assert!(!is_look_alike('é'));
    assert!(is_look_alike('\u{e01ef}'));
}

#[test]
fn explains_each_reason() {
    let table: &[(Ambiguity, &str)] = &[
        (Character('|'), "'|', which is not a URL path character"),
        (PathParameter, "a ; path parameter"),
        (EncodedSeparator, "encoded slash"),
        (EncodedPercent, "(%25)"),
        (InvalidUtf8, "overlong %C0%AE"),
        (LookAlike('．'), "U+FF0E"),
        (DotSegment, ". or .. segment"),
    ];
    for (reason, fragment) in table {
        let text = reason.to_string();
        assert!(text.contains(fragment), "{text:?} lacks {fragment:?}");
    }
}
