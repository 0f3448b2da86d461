//! Checks a document against the HAR 1.2 structure
//! (<http://www.softwareishard.com/blog/har-12-spec/>): every required field of `log`,
//! `creator`, `entries`, `request`, `response`, `content`, `cache` and `timings` with its
//! type, and no field outside the spec unless it starts with `_` (the spec's rule for
//! custom fields), so what devtools' "Import HAR" reads is there.

use serde_json::{Map, Value};

/// Panics with the path of the first violation; returns the entries.
pub fn check_har(doc: &Value) -> Vec<Value> {
    let root = obj(doc, "$");
    only(root, "$", &["log"]);
    let log = obj(&root["log"], "log");
    only(
        log,
        "log",
        &[
            "version", "creator", "browser", "pages", "entries", "comment",
        ],
    );
    assert_eq!(log["version"], "1.2", "log.version");
    let creator = obj(&log["creator"], "log.creator");
    only(creator, "log.creator", &["name", "version", "comment"]);
    string(creator, "log.creator", "name");
    string(creator, "log.creator", "version");
    let entries = log["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("log.entries must be an array: {doc}"));
    for (i, e) in entries.iter().enumerate() {
        entry(e, &format!("log.entries[{i}]"));
    }
    entries.clone()
}

fn entry(e: &Value, at: &str) {
    let o = obj(e, at);
    only(
        o,
        at,
        &[
            "pageref",
            "startedDateTime",
            "time",
            "request",
            "response",
            "cache",
            "timings",
            "serverIPAddress",
            "connection",
            "comment",
        ],
    );
    let started = string(o, at, "startedDateTime");
    // ISO 8601 with date, time and zone, e.g. 2009-07-24T19:20:30.45+01:00.
    let b = started.as_bytes();
    assert!(
        b.len() >= 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && (started.ends_with('Z') || started[19..].contains(['+', '-'])),
        "{at}.startedDateTime {started:?} is not ISO 8601 with a zone"
    );
    assert!(number(o, at, "time") >= 0.0, "{at}.time is negative");
    request(&o["request"], &format!("{at}.request"));
    response(&o["response"], &format!("{at}.response"));
    obj(&o["cache"], &format!("{at}.cache"));
    let t = obj(&o["timings"], &format!("{at}.timings"));
    let tat = format!("{at}.timings");
    only(
        t,
        &tat,
        &[
            "blocked", "dns", "connect", "send", "wait", "receive", "ssl", "comment",
        ],
    );
    for k in ["send", "wait", "receive"] {
        assert!(number(t, &tat, k) >= 0.0, "{tat}.{k} must be >= 0");
    }
    for k in ["blocked", "dns", "connect", "ssl"] {
        if t.contains_key(k) {
            assert!(number(t, &tat, k) >= -1.0, "{tat}.{k} must be >= -1");
        }
    }
    for k in ["serverIPAddress", "connection"] {
        if o.contains_key(k) {
            string(o, at, k);
        }
    }
}

fn request(r: &Value, at: &str) {
    let o = obj(r, at);
    only(
        o,
        at,
        &[
            "method",
            "url",
            "httpVersion",
            "cookies",
            "headers",
            "queryString",
            "postData",
            "headersSize",
            "bodySize",
            "comment",
        ],
    );
    string(o, at, "method");
    string(o, at, "url");
    string(o, at, "httpVersion");
    array(o, at, "cookies");
    pairs(o, at, "headers");
    pairs(o, at, "queryString");
    number(o, at, "headersSize");
    number(o, at, "bodySize");
    if let Some(p) = o.get("postData") {
        let pat = format!("{at}.postData");
        let p = obj(p, &pat);
        only(p, &pat, &["mimeType", "params", "text", "comment"]);
        string(p, &pat, "mimeType");
        string(p, &pat, "text");
    }
}

fn response(r: &Value, at: &str) {
    let o = obj(r, at);
    only(
        o,
        at,
        &[
            "status",
            "statusText",
            "httpVersion",
            "cookies",
            "headers",
            "content",
            "redirectURL",
            "headersSize",
            "bodySize",
            "comment",
        ],
    );
    number(o, at, "status");
    string(o, at, "statusText");
    string(o, at, "httpVersion");
    array(o, at, "cookies");
    pairs(o, at, "headers");
    string(o, at, "redirectURL");
    number(o, at, "headersSize");
    number(o, at, "bodySize");
    let cat = format!("{at}.content");
    let c = obj(&o["content"], &cat);
    only(
        c,
        &cat,
        &[
            "size",
            "compression",
            "mimeType",
            "text",
            "encoding",
            "comment",
        ],
    );
    number(c, &cat, "size");
    string(c, &cat, "mimeType");
    for k in ["text", "encoding"] {
        if c.contains_key(k) {
            string(c, &cat, k);
        }
    }
}

fn obj<'a>(v: &'a Value, at: &str) -> &'a Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("{at} must be an object, is {v}"))
}

/// Keys outside `known` must be custom (`_name`).
fn only(o: &Map<String, Value>, at: &str, known: &[&str]) {
    for k in o.keys() {
        assert!(
            known.contains(&k.as_str()) || k.starts_with('_'),
            "{at}.{k} is not a HAR 1.2 field (custom fields start with `_`)"
        );
    }
}

fn string<'a>(o: &'a Map<String, Value>, at: &str, k: &str) -> &'a str {
    o.get(k)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{at}.{k} must be a string, is {:?}", o.get(k)))
}

fn number(o: &Map<String, Value>, at: &str, k: &str) -> f64 {
    o.get(k)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{at}.{k} must be a number, is {:?}", o.get(k)))
}

fn array<'a>(o: &'a Map<String, Value>, at: &str, k: &str) -> &'a Vec<Value> {
    o.get(k)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{at}.{k} must be an array, is {:?}", o.get(k)))
}

fn pairs(o: &Map<String, Value>, at: &str, k: &str) {
    for (i, p) in array(o, at, k).iter().enumerate() {
        let pat = format!("{at}.{k}[{i}]");
        let p = obj(p, &pat);
        string(p, &pat, "name");
        string(p, &pat, "value");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> Value {
        serde_json::json!({"log": {"version": "1.2", "creator": {"name": "x", "version": "1"},
            "entries": [{
                "startedDateTime": "2026-01-01T00:00:00.000Z", "time": 1,
                "request": {"method": "GET", "url": "http://h/", "httpVersion": "HTTP/1.1",
                    "cookies": [], "headers": [], "queryString": [], "headersSize": -1,
                    "bodySize": 0},
                "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                    "cookies": [], "headers": [], "content": {"size": 0, "mimeType": ""},
                    "redirectURL": "", "headersSize": -1, "bodySize": 0},
                "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}}]}})
    }

    #[test]
    fn a_minimal_document_passes() {
        assert_eq!(check_har(&minimal()).len(), 1);
    }

    #[test]
    #[should_panic(expected = "log.entries[0].timings.wait must be a number")]
    fn a_missing_timing_fails() {
        let mut d = minimal();
        d["log"]["entries"][0]["timings"]
            .as_object_mut()
            .unwrap()
            .remove("wait");
        check_har(&d);
    }

    #[test]
    #[should_panic(expected = "log.entries[0].wasmgate is not a HAR 1.2 field")]
    fn a_custom_field_without_underscore_fails() {
        let mut d = minimal();
        d["log"]["entries"][0]["wasmgate"] = serde_json::json!({});
        check_har(&d);
    }

    #[test]
    #[should_panic(expected = "is not ISO 8601")]
    fn a_bad_date_fails() {
        let mut d = minimal();
        d["log"]["entries"][0]["startedDateTime"] = "yesterday".into();
        check_har(&d);
    }
}
