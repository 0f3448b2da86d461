//! Secrets the guest never sees: headers the host adds to requests that match a rule,
//! with values taken from the host's environment or a file when the runner is built.
//!
//! The values live only in [`Secret`]s (whose `Debug` and `Display` print
//! `<redacted>`) and in the requests on the wire; events carry header names only.

use crate::{Error, ErrorKind};
use http::{HeaderMap, HeaderName, HeaderValue};
use std::fmt;
use std::path::Path;
use wasmgate_policy::{AllowRule, RequestTarget};

/// Largest secret file read by `${file:…}`: tokens, keys and passwords are far smaller;
/// the cap keeps a mistaken path (a log, a device) from being read into memory.
pub const MAX_SECRET_FILE: u64 = 64 * 1024;

/// A header value that is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(HeaderValue);

impl Secret {
    /// The value for the wire.
    pub(crate) fn value(&self) -> &HeaderValue {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Headers to add to every allowed request that `rule` matches. A guest header of the
/// same name is replaced.
#[derive(Debug, Clone)]
pub struct Injection {
    rule: AllowRule,
    headers: Vec<(HeaderName, Secret)>,
}

impl Injection {
    /// Parses `rule` (allow-rule syntax) and resolves each header's value template:
    /// literal text with `${env:NAME}` (the host's environment variable) and
    /// `${file:PATH}` (the file's contents without a final line break) substituted.
    /// A missing variable or unreadable file is an [`ErrorKind::Config`] error naming it.
    pub fn new<'a>(
        rule: &str,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Error> {
        Self::with_env(rule, headers, |name| std::env::var(name).ok())
    }

    /// [`Injection::new`] with environment variables looked up by `env`.
    pub fn with_env<'a>(
        rule: &str,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        let config = |msg: String| Error::new(ErrorKind::Config, msg);
        let parsed = AllowRule::parse(rule)
            .map_err(|e| config(format!("invalid inject rule {rule:?}: {e}")))?;
        let mut out: Vec<(HeaderName, Secret)> = Vec::new();
        for (name, template) in headers {
            let header = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                config(format!(
                    "invalid header name {name:?} to inject for {rule:?}: expected a token such as `authorization` or `x-api-key`"
                ))
            })?;
            if is_hop_or_framing(&header) {
                return Err(config(format!(
                    "the header {header} cannot be injected (for {rule:?}): it is set by the host for each connection"
                )));
            }
            let text = expand(template, &env)
                .map_err(|why| config(format!("cannot inject {header} for {rule:?}: {why}")))?;
            let mut value = HeaderValue::from_str(&text).map_err(|_| {
                config(format!(
                    "cannot inject {header} for {rule:?}: its value (not shown) contains a line break or control character; a header value is one line of text"
                ))
            })?;
            // Not indexed by HTTP/2 header compression, so not kept in a shared table.
            value.set_sensitive(true);
            out.retain(|(n, _)| *n != header);
            out.push((header, Secret(value)));
        }
        if out.is_empty() {
            return Err(config(format!(
                "inject for {rule:?} names no header; expected at least one, e.g. authorization = \"Bearer ${{env:API_TOKEN}}\""
            )));
        }
        Ok(Self {
            rule: parsed,
            headers: out,
        })
    }

    /// The rule, as written.
    pub fn rule(&self) -> &str {
        self.rule.as_str()
    }

    /// The header names this injection sets.
    pub fn header_names(&self) -> impl Iterator<Item = &str> {
        self.headers.iter().map(|(n, _)| n.as_str())
    }
}

/// Headers a host sets per connection or message; injecting them would break framing.
fn is_hop_or_framing(name: &HeaderName) -> bool {
    use http::header::*;
    [
        HOST,
        CONTENT_LENGTH,
        TRANSFER_ENCODING,
        CONNECTION,
        UPGRADE,
        TE,
        PROXY_AUTHORIZATION,
    ]
    .contains(name)
}

/// What injection did to one request's headers, by name only.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    /// Every header name injected.
    pub(crate) injected: Vec<String>,
    /// Those of them that replaced a header the guest had set.
    pub(crate) replaced: Vec<String>,
}

/// Sets the headers of every injection whose rule matches `target`.
pub(crate) fn apply(
    injections: &[Injection],
    target: &RequestTarget,
    headers: &mut HeaderMap,
) -> Applied {
    let mut applied = Applied::default();
    for inj in injections.iter().filter(|i| i.rule.matches(target)) {
        for (name, secret) in &inj.headers {
            let name_text = name.as_str().to_string();
            if applied.injected.contains(&name_text) {
                // An earlier injection set it; the first matching rule wins.
                continue;
            }
            if headers
                .insert(name.clone(), secret.value().clone())
                .is_some()
            {
                applied.replaced.push(name_text.clone());
            }
            applied.injected.push(name_text);
        }
    }
    applied
}

/// Substitutes `${env:NAME}` and `${file:PATH}` in `template`. Errors name the
/// variable or file, never a value.
fn expand(template: &str, env: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(
                "unclosed `${` in its value template; expected ${env:NAME} or ${file:PATH}"
                    .to_string(),
            );
        };
        let reference = &after[..end];
        let text = match reference.split_once(':') {
            Some(("env", name)) if !name.is_empty() => env(name).ok_or_else(|| {
                format!(
                    "the environment variable {name} is not set; set it before starting wasmgate"
                )
            })?,
            Some(("file", path)) if !path.is_empty() => read_secret_file(Path::new(path))?,
            _ => {
                return Err(format!(
                    "unknown reference ${{{reference}}} in its value template; expected ${{env:NAME}} or ${{file:PATH}}"
                ));
            }
        };
        out.push_str(&text);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn read_secret_file(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    // A FIFO or device (`/dev/stdin`) could block start-up or never end.
    let regular = file.metadata().map(|m| m.is_file()).unwrap_or(false);
    if !regular {
        return Err(format!(
            "cannot read {shown}: it is not a regular file; expected a file holding just the secret"
        ));
    }
    let mut text = String::new();
    file.take(MAX_SECRET_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read {shown}: {e}; expected a UTF-8 text file"))?;
    if text.len() as u64 > MAX_SECRET_FILE {
        return Err(format!(
            "{shown} is larger than {MAX_SECRET_FILE} bytes; expected a file holding just the secret"
        ));
    }
    // Files written by `echo`, editors and secret mounts usually end in a line break.
    let trimmed = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "API_TOKEN").then(|| "tok-123".to_string())
    }

    #[test]
    fn templates_expand_env_and_file() {
        let dir = std::env::temp_dir().join(format!("wasmgate-inject-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("key");
        std::fs::write(&key, "k-456\n").unwrap();
        let file_ref = format!("${{file:{}}}", key.display());
        let inj = Injection::with_env(
            "https://api.example.com",
            [
                ("Authorization", "Bearer ${env:API_TOKEN}"),
                ("x-api-key", file_ref.as_str()),
            ],
            env,
        )
        .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", HeaderValue::from_static("guest's"));
        let t = RequestTarget::parse("GET", "https://api.example.com/v1").unwrap();
        let applied = apply(std::slice::from_ref(&inj), &t, &mut headers);
        assert_eq!(headers["authorization"], "Bearer tok-123");
        assert_eq!(headers["x-api-key"], "k-456");
        assert_eq!(applied.injected, ["authorization", "x-api-key"]);
        assert_eq!(applied.replaced, ["x-api-key"]);
        assert!(!format!("{inj:?}").contains("tok-123"), "{inj:?}");

        let other = RequestTarget::parse("GET", "https://other.example.com/").unwrap();
        let mut untouched = HeaderMap::new();
        assert_eq!(apply(&[inj], &other, &mut untouched), Applied::default());
        assert!(untouched.is_empty());
    }

    #[test]
    fn missing_sources_are_config_errors_naming_them() {
        let e = Injection::with_env("https://a.example", [("authorization", "${env:NOPE}")], env)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("NOPE is not set"), "{e}");
        let e = Injection::with_env(
            "https://a.example",
            [("authorization", "${file:/nonexistent/secret}")],
            env,
        )
        .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/secret"), "{e}");
        let e = Injection::with_env(
            "https://a.example",
            [("authorization", "${file:/dev/null}")],
            env,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("/dev/null: it is not a regular file"),
            "{e}"
        );
        for bad in ["${env:API_TOKEN", "${vault:x}", "${env:}"] {
            let e = Injection::with_env("https://a.example", [("authorization", bad)], env)
                .unwrap_err();
            assert!(e.to_string().contains("expected ${env:NAME}"), "{bad}: {e}");
        }
    }

    #[test]
    fn bad_names_values_and_rules_are_refused_without_the_value() {
        let e = Injection::with_env("https://a.example", [("bad name", "x")], env).unwrap_err();
        assert!(e.to_string().contains("\"bad name\""), "{e}");
        let e = Injection::with_env("https://a.example", [("host", "x")], env).unwrap_err();
        assert!(e.to_string().contains("cannot be injected"), "{e}");
        let e = Injection::with_env("https://a.example", [("x-k", "a${env:API_TOKEN}\nb")], env)
            .unwrap_err();
        assert!(!e.to_string().contains("tok-123"), "{e}");
        assert!(e.to_string().contains("line break"), "{e}");
        let e = Injection::with_env("no scheme here", [("x-k", "v")], env).unwrap_err();
        assert!(e.to_string().contains("invalid inject rule"), "{e}");
    }
}
