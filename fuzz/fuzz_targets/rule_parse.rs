//! `AllowRule::parse` on any text: never panics; what parses reads back the same, and a
//! parsed rule answers a request the same way every time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmgate_policy::{AllowRule, RequestTarget};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rule) = AllowRule::parse(text) else {
        return;
    };
    let again = AllowRule::parse(&rule.to_string()).expect("a parsed rule re-parses");
    assert_eq!(rule, again);
    // A request built from the rule's own text (method and URL as written) is judged
    // the same by both copies.
    let (method, url) = match text.trim().split_once(' ') {
        Some((m, u)) => (m.split(',').next().unwrap_or("GET"), u.trim()),
        None => ("GET", text.trim()),
    };
    if let Ok(target) = RequestTarget::parse(method, url) {
        assert_eq!(rule.matches(&target), again.matches(&target));
    }
});
