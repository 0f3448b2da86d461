use super::*;
use http::Request;

fn parts(req: Request<()>) -> http::request::Parts {
    req.into_parts().0
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn vars_of(p: &http::request::Parts, tls: bool, script_name: &str) -> Vec<(String, String)> {
    meta_variables(
        p,
        addr("192.0.2.7:50123"),
        addr("127.0.0.1:8080"),
        "example.test",
        tls,
        script_name,
    )
}

fn get<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let mut found = vars.iter().filter(|(k, _)| k == name);
    let first = found.next().map(|(_, v)| v.as_str());
    assert!(found.next().is_none(), "{name} set twice in {vars:?}");
    first
}

// ---- meta_variables -------------------------------------------------------------

#[test]
fn standard_variables_of_a_simple_get() {
    let p = parts(
        Request::get("/hello/w%C3%B6rld?a=1&b=%20")
            .header("host", "example.test:8080")
            .header("user-agent", "curl/8")
            .body(())
            .unwrap(),
    );
    let v = vars_of(&p, false, "");
    let expect = [
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("SERVER_NAME", "example.test"),
        ("SERVER_PORT", "8080"),
        ("REQUEST_METHOD", "GET"),
        ("SCRIPT_NAME", ""),
        ("PATH_INFO", "/hello/wörld"),
        ("QUERY_STRING", "a=1&b=%20"),
        ("REQUEST_URI", "/hello/w%C3%B6rld?a=1&b=%20"),
        ("REMOTE_ADDR", "192.0.2.7"),
        ("REMOTE_PORT", "50123"),
        ("HTTP_HOST", "example.test:8080"),
        ("HTTP_USER_AGENT", "curl/8"),
    ];
    for (k, want) in expect {
        assert_eq!(get(&v, k), Some(want), "{k}");
    }
    assert_eq!(
        get(&v, "SERVER_SOFTWARE"),
        Some(concat!("wasmgate/", env!("CARGO_PKG_VERSION")))
    );
    for absent in ["HTTPS", "CONTENT_LENGTH", "CONTENT_TYPE", "PATH_TRANSLATED"] {
        assert_eq!(get(&v, absent), None, "{absent}");
    }
}

#[test]
fn query_string_is_always_set() {
    let v = vars_of(&parts(Request::get("/x").body(()).unwrap()), false, "");
    assert_eq!(get(&v, "QUERY_STRING"), Some(""));
    assert_eq!(get(&v, "REQUEST_URI"), Some("/x"));
}

#[test]
fn server_protocol_is_major_dot_minor_as_go_parses_it() {
    for (version, want) in [
        (Version::HTTP_09, "HTTP/0.9"),
        (Version::HTTP_10, "HTTP/1.0"),
        (Version::HTTP_11, "HTTP/1.1"),
        (Version::HTTP_2, "HTTP/2.0"),
        (Version::HTTP_3, "HTTP/3.0"),
    ] {
        let p = parts(Request::get("/").version(version).body(()).unwrap());
        assert_eq!(get(&vars_of(&p, false, ""), "SERVER_PROTOCOL"), Some(want));
    }
}

#[test]
fn http2_request_gets_host_and_origin_form_uri_from_the_authority() {
    let p = parts(
        Request::get("https://example.test:8443/a%2Fb?q=1")
            .version(Version::HTTP_2)
            .body(())
            .unwrap(),
    );
    let v = vars_of(&p, true, "");
    assert_eq!(get(&v, "HTTP_HOST"), Some("example.test:8443"));
    assert_eq!(get(&v, "REQUEST_URI"), Some("/a%2Fb?q=1"));
    assert_eq!(get(&v, "PATH_INFO"), Some("/a/b"));
    assert_eq!(get(&v, "HTTPS"), Some("on"));
}

#[test]
fn host_header_wins_over_the_authority() {
    let p = parts(
        Request::get("http://authority.test/")
            .header("host", "header.test")
            .body(())
            .unwrap(),
    );
    assert_eq!(
        get(&vars_of(&p, false, ""), "HTTP_HOST"),
        Some("header.test")
    );
}

#[test]
fn content_length_and_type_are_cgi_variables_not_http_ones() {
    let p = parts(
        Request::post("/echo")
            .header("content-length", "5")
            .header("content-type", "text/plain")
            .body(())
            .unwrap(),
    );
    let v = vars_of(&p, false, "");
    assert_eq!(get(&v, "CONTENT_LENGTH"), Some("5"));
    assert_eq!(get(&v, "CONTENT_TYPE"), Some("text/plain"));
    assert_eq!(get(&v, "HTTP_CONTENT_LENGTH"), None);
    assert_eq!(get(&v, "HTTP_CONTENT_TYPE"), None);
}

#[test]
fn repeated_headers_are_joined() {
    let p = parts(
        Request::get("/")
            .header("accept", "text/html")
            .header("accept", "application/json")
            .header("cookie", "a=1")
            .header("cookie", "b=2")
            .body(())
            .unwrap(),
    );
    let v = vars_of(&p, false, "");
    assert_eq!(get(&v, "HTTP_ACCEPT"), Some("text/html, application/json"));
    // HTTP/2 splits cookies into one field each; they go back together with "; ".
    assert_eq!(get(&v, "HTTP_COOKIE"), Some("a=1; b=2"));
}

#[test]
fn proxy_header_is_never_http_proxy() {
    // httpoxy, CVE-2016-5385.
    let p = parts(
        Request::get("/")
            .header("proxy", "http://evil.test:3128")
            .body(())
            .unwrap(),
    );
    let v = vars_of(&p, false, "");
    assert_eq!(get(&v, "HTTP_PROXY"), None);
    assert!(!v.iter().any(|(_, val)| val.contains("evil")), "{v:?}");
}

#[test]
fn headers_that_could_collide_after_folding_are_dropped() {
    let p = parts(
        Request::get("/")
            .header("x-forwarded-for", "10.0.0.1")
            .header("x_forwarded_for", "6.6.6.6")
            .header("x.forwarded.for", "6.6.6.7")
            .header("x-a_b", "6.6.6.8")
            .header("x-custom-1", "ok")
            .body(())
            .unwrap(),
    );
    let v = vars_of(&p, false, "");
    assert_eq!(get(&v, "HTTP_X_FORWARDED_FOR"), Some("10.0.0.1"));
    assert_eq!(get(&v, "HTTP_X_CUSTOM_1"), Some("ok"));
    for (k, val) in &v {
        assert!(!val.starts_with("6.6.6."), "{k}={val} passed");
        assert!(
            k.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
            "variable name {k:?}"
        );
    }
}

#[test]
fn connection_headers_are_not_passed() {
    let p = parts(
        Request::post("/")
            .header("connection", "keep-alive, x-secret")
            .header("keep-alive", "timeout=5")
            .header("transfer-encoding", "chunked")
            .header("te", "trailers")
            .header("trailer", "x-sum")
            .header("upgrade", "websocket")
            .header("proxy-connection", "keep-alive")
            .body(())
            .unwrap(),
    );
    let v = vars_of(&p, false, "");
    let http: Vec<_> = v.iter().filter(|(k, _)| k.starts_with("HTTP_")).collect();
    assert!(http.is_empty(), "{http:?}");
}

#[test]
fn header_values_that_are_not_utf8_are_replaced_not_dropped() {
    let p = parts(
        Request::get("/")
            .header("x-latin1", HeaderValue::from_bytes(b"caf\xe9").unwrap())
            .body(())
            .unwrap(),
    );
    assert_eq!(
        get(&vars_of(&p, false, ""), "HTTP_X_LATIN1"),
        Some("caf\u{fffd}")
    );
}

#[test]
fn script_name_is_split_off_path_info_at_a_segment_boundary() {
    for (path, script, script_var, info) in [
        ("/app/hello", "/app", "/app", "/hello"),
        ("/app", "/app", "/app", ""),
        ("/app/", "/app/", "/app/", "/"),
        ("/application", "/app", "/app", "/application"),
        ("/other", "/app", "/app", "/other"),
        ("/", "", "", "/"),
    ] {
        let p = parts(Request::get(path).body(()).unwrap());
        let v = vars_of(&p, false, script);
        assert_eq!(get(&v, "SCRIPT_NAME"), Some(script_var), "{path}");
        assert_eq!(get(&v, "PATH_INFO"), Some(info), "{path} under {script}");
        assert_eq!(get(&v, "REQUEST_URI"), Some(path));
    }
}

#[test]
fn ipv6_remote_address_has_no_brackets() {
    let p = parts(Request::get("/").body(()).unwrap());
    let v = meta_variables(
        &p,
        addr("[2001:db8::1]:4000"),
        addr("[::1]:9000"),
        "h",
        false,
        "",
    );
    assert_eq!(get(&v, "REMOTE_ADDR"), Some("2001:db8::1"));
    assert_eq!(get(&v, "REMOTE_PORT"), Some("4000"));
    assert_eq!(get(&v, "SERVER_PORT"), Some("9000"));
}

#[test]
fn no_variable_contains_nul_cr_or_lf() {
    let p = parts(
        Request::get("/a%00b%0d%0a")
            .header("x-tab", "a\tb")
            .body(())
            .unwrap(),
    );
    let v = vars_of(&p, false, "");
    for (k, val) in &v {
        assert!(!val.contains('\0'), "{k}={val:?}");
    }
    assert_eq!(get(&v, "PATH_INFO"), Some("/a%00b\r\n"));
}

#[test]
fn decode_path_table() {
    for (raw, want) in [
        ("/plain", Ok("/plain")),
        ("/a%20b", Ok("/a b")),
        ("/a%2fb%2F", Ok("/a/b/")),
        ("/%2e%2e/x", Ok("/../x")),
        ("/caf%C3%A9", Ok("/café")),
        ("/100%", Ok("/100%")),
        ("/%zz%4", Ok("/%zz%4")),
        ("/%4", Ok("/%4")),
        ("/a%00", Err("%00 decodes to NUL")),
        ("/%ff", Err("it does not decode to UTF-8")),
        ("/%C3", Err("it does not decode to UTF-8")),
    ] {
        match (decode_path(raw), want) {
            (Ok(got), Ok(w)) => assert_eq!(got, w, "{raw}"),
            (Err(CgiError::InvalidPath { path, reason }), Err(w)) => {
                assert_eq!(reason, w, "{raw}");
                assert_eq!(path, format!("\"{raw}\""));
            }
            (got, w) => panic!("{raw}: got {got:?}, want {w:?}"),
        }
    }
    assert_eq!(decode_path_lossy("/a%00%ff"), "/a%00\u{fffd}");
}

// ---- ResponseHead::parse --------------------------------------------------------

fn parse_ok(input: &[u8]) -> (ResponseHead, usize) {
    match ResponseHead::parse(input) {
        Ok(Some(r)) => r,
        other => panic!("{:?}: {other:?}", input.escape_ascii().to_string()),
    }
}

fn parse_err(input: &[u8]) -> CgiError {
    match ResponseHead::parse(input) {
        Err(e) => e,
        other => panic!(
            "{:?} should fail, got {other:?}",
            input.escape_ascii().to_string()
        ),
    }
}

#[test]
fn go_net_http_cgi_output_parses() {
    // What Go's cgi.Serve writes for w.WriteHeader(404); w.Write("nope").
    let out = b"Status: 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nX-Route: hello\r\n\r\nnope";
    let (head, n) = parse_ok(out);
    assert_eq!(head.status, StatusCode::NOT_FOUND);
    assert_eq!(head.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(head.headers["x-route"], "hello");
    assert!(!head.headers.contains_key("status"));
    assert_eq!(&out[n..], b"nope");
}

#[test]
fn lf_only_and_defaults() {
    let (head, n) = parse_ok(b"Content-Type: text/html\n\n<p>");
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(n, 25);
    assert_eq!(head.content_length, None);
    assert!(head.dropped.is_empty());
}

#[test]
fn mixed_line_ends_and_whitespace_around_values() {
    let input = b"Content-Type:text/plain\r\nX-A: \t spaced \t\nX-Empty:\r\n\nbody";
    let (head, n) = parse_ok(input);
    assert_eq!(&input[n..], b"body");
    assert_eq!(head.headers["x-a"], "spaced");
    assert_eq!(head.headers["x-empty"], "");
}

#[test]
fn repeated_headers_are_kept_in_order() {
    let (head, _) = parse_ok(b"Set-Cookie: a=1\nSet-Cookie: b=2\nContent-Type: text/plain\n\n");
    let cookies: Vec<_> = head.headers.get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
}

#[test]
fn status_table() {
    for (line, want) in [
        ("Status: 200", Some(200)),
        ("Status: 404 Not Found", Some(404)),
        ("status: 503 Busy, try later", Some(503)),
        ("STATUS:201 Created", Some(201)),
        ("Status: 599", Some(599)),
        ("Status: 418\tteapot", Some(418)),
        ("Status: 99", None),
        ("Status: 1000", None),
        ("Status: 100 Continue", None),
        ("Status: 101 Switching Protocols", None),
        ("Status: 199", None),
        ("Status: 600", None),
        ("Status: 999 Weird", None),
        ("Status: OK", None),
        ("Status: abc", None),
        ("Status: 2OO", None),
        ("Status: 200OK", None),
        ("Status: -200", None),
        ("Status: +200", None),
        ("Status: ", None),
        ("Status:", None),
        ("Status: 20", None),
        ("Status: ２００", None),
    ] {
        let input = format!("{line}\nContent-Type: text/plain\n\n");
        match (ResponseHead::parse(input.as_bytes()), want) {
            (Ok(Some((head, _))), Some(code)) => assert_eq!(head.status.as_u16(), code, "{line}"),
            (Err(CgiError::InvalidStatus { value }), None) => {
                assert!(value.starts_with('"'), "{line}: {value}")
            }
            (got, want) => panic!("{line:?}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn duplicated_singletons_are_refused() {
    for (input, name) in [
        (&b"Status: 200\nStatus: 500\n\n"[..], "Status"),
        (b"Status: 200 OK\nstatus: 200 OK\n\n", "Status"),
        (b"Location: http://a/\nLocation: http://b/\n\n", "Location"),
        (b"Content-Type: a/b\ncontent-type: c/d\n\n", "Content-Type"),
        (
            b"Content-Length: 1\nContent-Length: 1\n\n",
            "Content-Length",
        ),
    ] {
        assert_eq!(parse_err(input), CgiError::Duplicate { name });
    }
}

#[test]
fn location_redirects() {
    // Client redirect without Status: 302.
    let (head, _) = parse_ok(b"Location: https://example.test/next\n\n");
    assert_eq!(head.status, StatusCode::FOUND);
    assert_eq!(head.headers["location"], "https://example.test/next");
    // Network-path reference: a client redirect too.
    let (head, _) = parse_ok(b"Location: //example.test/x\n\n");
    assert_eq!(head.status, StatusCode::FOUND);
    // With a Status (Go's http.Redirect to a path): passed as is.
    let (head, _) = parse_ok(
        b"Status: 301 Moved Permanently\r\nContent-Type: text/html\r\nLocation: /new\r\n\r\n",
    );
    assert_eq!(head.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(head.headers["location"], "/new");
    // Local redirect (RFC 3875 §6.2.2): not supported.
    assert_eq!(
        parse_err(b"Location: /elsewhere?x=1\n\n"),
        CgiError::LocalRedirect {
            location: "\"/elsewhere?x=1\"".into()
        }
    );
}

#[test]
fn content_length_is_parsed_out_of_the_headers() {
    let (head, _) = parse_ok(b"Content-Type: text/plain\nContent-Length: 12\n\n");
    assert_eq!(head.content_length, Some(12));
    assert!(!head.headers.contains_key("content-length"));
    for bad in [
        "",
        "-1",
        "+1",
        "1,1",
        "1 2",
        "0x10",
        "99999999999999999999999",
    ] {
        let input = format!("Content-Length: {bad}\n\n");
        assert!(
            matches!(
                parse_err(input.as_bytes()),
                CgiError::InvalidContentLength { .. }
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn hop_by_hop_headers_are_dropped_and_reported() {
    let (head, _) = parse_ok(
        b"Content-Type: text/plain\nConnection: close\nTransfer-Encoding: chunked\nKeep-Alive: timeout=5\nconnection: x\nUpgrade: h2c\nTE: trailers\nTrailer: x\nProxy-Connection: close\nX-Ok: 1\n\n",
    );
    let dropped: Vec<_> = head.dropped.iter().map(|n| n.as_str()).collect();
    assert_eq!(
        dropped,
        [
            "connection",
            "transfer-encoding",
            "keep-alive",
            "upgrade",
            "te",
            "trailer",
            "proxy-connection"
        ]
    );
    let names: Vec<_> = head.headers.keys().map(|n| n.as_str()).collect();
    assert_eq!(names, ["content-type", "x-ok"]);
}

#[test]
fn incomplete_heads_ask_for_more() {
    let full = b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nbody";
    let end = full.len() - 4;
    for cut in 0..end {
        assert_eq!(
            ResponseHead::parse(&full[..cut]),
            Ok(None),
            "cut at {cut}: {:?}",
            full[..cut].escape_ascii().to_string()
        );
    }
    assert_eq!(parse_ok(&full[..end]).1, end);
    assert_eq!(
        ResponseHead::parse_final(b"Content-Type: text/plain\n"),
        Err(CgiError::Incomplete { received: 25 })
    );
    assert_eq!(
        ResponseHead::parse_final(b""),
        Err(CgiError::Incomplete { received: 0 })
    );
}

#[test]
fn a_bad_line_fails_before_the_head_ends() {
    // A handler that prints a body without a head fails at its first line.
    assert!(matches!(
        ResponseHead::parse(b"hello world\n"),
        Err(CgiError::MalformedLine { .. })
    ));
}

#[test]
fn adversarial_lines_are_refused_with_the_input_quoted() {
    #[derive(Debug)]
    enum Want {
        Malformed,
        Fold,
        Name,
        Value,
        Empty,
    }
    use Want::*;
    let table: &[(&[u8], Want, &str)] = &[
        // Header injection: a CR that is not part of the line end.
        (
            b"X-A: a\rSet-Cookie: evil=1\n\n",
            Value,
            "a\\rSet-Cookie: evil=1",
        ),
        (b"X-A: a\r\r\n\n", Value, "a\\r"),
        (
            b"Content-Type: text/html\r\n\rLocation: http://evil/\r\n\r\n",
            Name,
            "\\rLocation",
        ),
        (b"X-A: a\x00b\n\n", Value, "a\\x00b"),
        (b"X-A: \x7f\n\n", Value, "\\x7f"),
        (b"X-A: \x1b[31m\n\n", Value, "\\x1b[31m"),
        (b"X-A\x00: b\n\n", Name, "X-A\\x00"),
        (b"X A: b\n\n", Name, "X A"),
        (b"Status : 200\n\n", Name, "Status "),
        (b"Content-Type\t: text/plain\n\n", Name, "Content-Type\\t"),
        (b": no name\n\n", Name, "\"\""),
        (b"X-\xc3\xa9: b\n\n", Name, "X-\\xc3\\xa9"),
        (b"X(A): b\n\n", Name, "X(A)"),
        (b"no colon here\n\n", Malformed, "no colon here"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n",
            Malformed,
            "HTTP/1.1 200 OK",
        ),
        (b"X-A: a\n continued\n\n", Fold, " continued"),
        (b"X-A: a\n\tcontinued\n\n", Fold, "\\tcontinued"),
        (b" X-A: a\n\n", Fold, " X-A: a"),
        (b"\n", Empty, ""),
        (b"\r\nbody", Empty, ""),
    ];
    for (input, want, quoted) in table {
        let err = parse_err(input);
        let ok = matches!(
            (&err, want),
            (CgiError::MalformedLine { .. }, Malformed)
                | (CgiError::ObsFold { .. }, Fold)
                | (CgiError::InvalidName { .. }, Name)
                | (CgiError::InvalidValue { .. }, Value)
                | (CgiError::NoHeaders, Empty)
        );
        assert!(
            ok,
            "{:?}: got {err:?}, want {want:?}",
            input.escape_ascii().to_string()
        );
        assert!(
            err.to_string().contains(quoted),
            "{err} should quote {quoted}"
        );
    }
}

#[test]
fn obs_text_in_values_is_allowed() {
    let (head, _) = parse_ok(b"X-Latin1: caf\xe9\nContent-Type: text/plain\n\n");
    assert_eq!(head.headers["x-latin1"].as_bytes(), b"caf\xe9");
}

#[test]
fn oversized_heads_are_refused() {
    // No line end at all.
    let flood = vec![b'a'; MAX_HEAD_BYTES];
    assert_eq!(
        ResponseHead::parse(&flood),
        Err(CgiError::HeadTooLarge {
            limit: MAX_HEAD_BYTES
        })
    );
    assert_eq!(ResponseHead::parse(&flood[..MAX_HEAD_BYTES - 1]), Ok(None));

    // Many valid lines, no blank line.
    let mut many = Vec::new();
    while many.len() < MAX_HEAD_BYTES + 100 {
        many.extend_from_slice(b"X-Filler: 0123456789abcdef\r\n");
    }
    assert_eq!(
        ResponseHead::parse(&many),
        Err(CgiError::HeadTooLarge {
            limit: MAX_HEAD_BYTES
        })
    );

    // A head of exactly the limit, blank line included, is accepted; one byte more is not.
    let build = |len: usize| {
        let mut h = b"X-Big: ".to_vec();
        h.resize(len - 2, b'v');
        h.extend_from_slice(b"\n\n");
        h.extend_from_slice(b"body");
        h
    };
    let exact = build(MAX_HEAD_BYTES);
    assert_eq!(parse_ok(&exact).1, MAX_HEAD_BYTES);
    assert_eq!(
        ResponseHead::parse(&build(MAX_HEAD_BYTES + 1)),
        Err(CgiError::HeadTooLarge {
            limit: MAX_HEAD_BYTES
        })
    );
}

#[test]
fn long_bad_input_is_quoted_briefly() {
    let mut line = vec![b'x'; 10_000];
    line.extend_from_slice(b"\n\n");
    let msg = parse_err(&line).to_string();
    assert!(msg.contains("… (10000 bytes)"), "{msg}");
    assert!(msg.len() < 400, "{} bytes: {msg}", msg.len());
}

#[test]
fn body_bytes_after_the_head_are_not_looked_at() {
    let input = b"Content-Type: application/octet-stream\n\n\x00\r\n\xff: x\n\n";
    let (head, n) = parse_ok(input);
    assert_eq!(&input[n..], b"\x00\r\n\xff: x\n\n");
    assert_eq!(head.headers.len(), 1);
}

// ---- against Go's net/http/cgi child --------------------------------------------

/// Runs the native build of `guest/go/testprograms/cgihandler` (the same source as the
/// wasip1 guest; `cgi.Serve` is target-independent) with only the meta-variables of
/// `req` as its environment and `body` on stdin, and parses its output.
fn go_cgi(req: Request<()>, body: &[u8], tls: bool) -> (ResponseHead, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let exe = wasmgate_test_support::go::go_native("cgihandler");
    let p = parts(req);
    let mut child = Command::new(exe)
        .env_clear()
        .envs(vars_of(&p, tls, ""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the native cgihandler");
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "cgihandler: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let (head, n) = ResponseHead::parse_final(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {:?}", String::from_utf8_lossy(&out.stdout));
    });
    (head, String::from_utf8_lossy(&out.stdout[n..]).into_owned())
}

#[test]
fn go_cgi_child_accepts_the_meta_variables_and_its_head_parses() {
    let (head, body) = go_cgi(
        Request::get("/hello")
            .header("host", "h:8080")
            .body(())
            .unwrap(),
        b"",
        false,
    );
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.headers["x-handler"], "cgihandler");
    assert_eq!(body, "hello from cgihandler\n");

    let (head, body) = go_cgi(
        Request::get("/status?code=418")
            .header("host", "h")
            .body(())
            .unwrap(),
        b"",
        false,
    );
    assert_eq!(head.status.as_u16(), 418);
    assert_eq!(body, "status 418\n");

    let (head, body) = go_cgi(
        Request::post("/echo")
            .header("host", "h")
            .header("content-type", "text/x-test")
            .header("content-length", "11")
            .body(())
            .unwrap(),
        b"hello world",
        false,
    );
    assert_eq!(head.headers["content-type"], "text/x-test");
    assert_eq!(body, "hello world");
}

#[test]
fn go_cgi_child_sees_the_request_as_sent() {
    // HTTP/2 over TLS: no Host header, the authority in the URI; split cookies.
    let (_, body) = go_cgi(
        Request::get("https://example.test:8443/env?a=1")
            .version(Version::HTTP_2)
            .header("x-forwarded-for", "10.0.0.1")
            .header("x_forwarded_for", "6.6.6.6")
            .header("proxy", "http://evil.test:3128")
            .header("cookie", "a=1")
            .header("cookie", "b=2")
            .body(())
            .unwrap(),
        b"",
        true,
    );
    let want = "method: GET\nurl: https://example.test:8443/env?a=1\nhost: example.test:8443\n\
                remote: 192.0.2.7:50123\ntls: true\nproto: HTTP/2.0\ncontent-length: 0\n\
                header: Cookie: a=1; b=2\nheader: X-Forwarded-For: 10.0.0.1\n";
    assert_eq!(body, want);
}

#[test]
fn go_cgi_child_reads_no_body_without_content_length() {
    // Go reads stdin only when CONTENT_LENGTH > 0: the server must give a chunked body
    // a length (or refuse it), see the module docs.
    let (_, body) = go_cgi(
        Request::post("/echo")
            .header("host", "h")
            .header("transfer-encoding", "chunked")
            .body(())
            .unwrap(),
        b"lost",
        false,
    );
    assert_eq!(body, "");
}
