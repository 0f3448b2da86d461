//! Request targets: `RequestTarget::parse` on any method + URL never panics; what parses
//! round-trips through its canonical URL and through `from_parts`, and a rule naming
//! just its scheme, host and port (and method) allows it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmgate_policy::{AllowRule, Limits, Policy, RequestTarget};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // "METHOD\nURL", or just a URL for GET.
    let (method, url) = text.split_once('\n').unwrap_or(("GET", text));
    let Ok(t) = RequestTarget::parse(method, url) else {
        return;
    };
    let canonical = t.url();
    let again = RequestTarget::parse(&t.method, &canonical)
        .unwrap_or_else(|e| panic!("canonical URL {canonical:?} does not parse: {e}"));
    assert_eq!(again, t, "{canonical}");
    let parts = RequestTarget::from_parts(
        &t.method,
        t.scheme.as_str(),
        &t.authority(),
        &t.path_and_query,
    )
    .unwrap_or_else(|e| panic!("parts of {canonical:?} do not parse: {e}"));
    assert_eq!(parts, t);
    assert!(t.path_and_query.starts_with('/'));
    // Rules name upper-case methods only.
    if t.method.bytes().all(|b| !b.is_ascii_lowercase()) {
        let text = format!("{} {}://{}", t.method, t.scheme, t.authority());
        let rule = AllowRule::parse(&text)
            .unwrap_or_else(|e| panic!("rule {text:?} from {canonical:?} does not parse: {e}"));
        assert!(rule.matches(&t), "{text} does not match {canonical}");
        let policy = Policy::new(vec![rule], vec![], Limits::default());
        assert!(policy.check_request(&t).is_ok(), "{text} vs {canonical}");
    }
});
