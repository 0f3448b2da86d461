//! Which requests go through an HTTP proxy, and which proxy: `--proxy`, `--no-proxy`,
//! `--proxy-from-env`. Parsed and checked here, at start; the outbound client only asks
//! [`ProxyConfig::route`] per request.
//!
//! The matching itself (NO_PROXY's domains, IPs, CIDRs and `*`, curl's rules) is
//! hyper-util's [`Matcher`]; this module makes sure it is only ever handed values it
//! will not silently drop (it ignores a proxy URL it cannot parse).

use crate::{Error, ErrorKind};
use http::HeaderValue;
use hyper_util::client::proxy::matcher::Matcher;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use wasmgate_policy::{Host, RequestTarget, Scheme};

/// Environment variables `--proxy-from-env` reads, in order of preference within each
/// pair: lower case first, as curl does (`HTTP_PROXY` upper case is what CGI servers
/// set from a request's `Proxy:` header, "httpoxy").
const HTTPS_PROXY_VARS: [&str; 2] = ["https_proxy", "HTTPS_PROXY"];
const HTTP_PROXY_VARS: [&str; 2] = ["http_proxy", "HTTP_PROXY"];
const NO_PROXY_VARS: [&str; 2] = ["no_proxy", "NO_PROXY"];

/// Where requests go when they do not go direct: an `http://` proxy per target scheme,
/// and the hosts that bypass it. Credentials in the URL are sent as
/// `Proxy-Authorization: Basic …` and never shown: `Debug` and `Display` redact them.
#[derive(Clone)]
pub struct ProxyConfig {
    http: Option<ProxyUrl>,
    https: Option<ProxyUrl>,
    no_proxy: String,
    matcher: Arc<Matcher>,
}

/// One validated proxy URL: `http://[user[:password]@]host[:port]`.
#[derive(Clone)]
struct ProxyUrl {
    /// As given, for the matcher (which takes the credentials from it).
    raw: String,
    /// `host:port`, never the credentials: what messages and events show.
    authority: String,
    has_credentials: bool,
}

/// Where one request goes instead of its target: the proxy's address and credentials.
#[derive(Clone)]
pub(crate) struct ProxyRoute {
    /// The proxy's host (resolved by the host's resolver; not subject to the policy's
    /// address check: the operator chose it, not the guest).
    pub(crate) host: Host,
    pub(crate) port: u16,
    /// `host:port` for messages and events.
    pub(crate) authority: Arc<str>,
    /// `Proxy-Authorization` value, marked sensitive.
    pub(crate) auth: Option<HeaderValue>,
}

impl fmt::Debug for ProxyRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyRoute")
            .field("authority", &self.authority)
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ProxyConfig {
    /// Every request (http and https targets) through the proxy at `url`
    /// (`http://[user:password@]host[:port]`, port 80 by default).
    pub fn new(url: &str) -> Result<Self, Error> {
        let url = ProxyUrl::parse(url, "--proxy")?;
        Ok(Self::build(Some(url.clone()), Some(url), String::new()))
    }

    /// The proxies named by `HTTPS_PROXY`/`https_proxy`, `HTTP_PROXY`/`http_proxy` and
    /// the bypass list `NO_PROXY`/`no_proxy` of this process's environment, or `None`
    /// when neither proxy variable is set.
    pub fn from_env() -> Result<Option<Self>, Error> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`ProxyConfig::from_env`] with the variables looked up by `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, Error> {
        let first = |names: [&'static str; 2]| {
            names.into_iter().find_map(|n| {
                var(n)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (n, v.trim().to_string()))
            })
        };
        let parse = |found: Option<(&str, String)>| {
            found.map(|(name, v)| ProxyUrl::parse(&v, name)).transpose()
        };
        let https = parse(first(HTTPS_PROXY_VARS))?;
        let http = parse(first(HTTP_PROXY_VARS))?;
        if http.is_none() && https.is_none() {
            return Ok(None);
        }
        let no_proxy = match first(NO_PROXY_VARS) {
            Some((name, list)) => check_no_proxy(&list, name)?,
            None => String::new(),
        };
        Ok(Some(Self::build(http, https, no_proxy)))
    }

    /// Hosts that bypass the proxy, comma-separated, as `NO_PROXY` writes them:
    /// `example.com` (and its subdomains; `.example.com` is the same), an IP address, a
    /// CIDR such as `10.0.0.0/8`, or `*` for every host. Replaces any list set before.
    pub fn no_proxy(self, list: &str) -> Result<Self, Error> {
        let list = check_no_proxy(list, "--no-proxy")?;
        Ok(Self::build(self.http, self.https, list))
    }

    fn build(http: Option<ProxyUrl>, https: Option<ProxyUrl>, no_proxy: String) -> Self {
        let mut b = Matcher::builder().no(no_proxy.as_str());
        if let Some(u) = &http {
            b = b.http(u.raw.as_str());
        }
        if let Some(u) = &https {
            b = b.https(u.raw.as_str());
        }
        Self {
            matcher: Arc::new(b.build()),
            http,
            https,
            no_proxy,
        }
    }

    /// The proxy a request to `target` goes through, or `None` to go direct.
    pub(crate) fn route(&self, target: &RequestTarget) -> Option<ProxyRoute> {
        // The matcher looks only at the scheme and host of what it is given.
        let uri = http::Uri::builder()
            .scheme(target.scheme.as_str())
            .authority(target.host.to_string())
            .path_and_query("/")
            .build()
            .ok()?;
        let intercept = self.matcher.intercept(&uri)?;
        let url = match target.scheme {
            Scheme::Http => self.http.as_ref()?,
            Scheme::Https => self.https.as_ref()?,
        };
        let proxy = intercept.uri();
        let host = proxy.host()?;
        let host = match host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(host.to_ascii_lowercase()),
        };
        Some(ProxyRoute {
            host,
            port: proxy.port_u16().unwrap_or(DEFAULT_PROXY_PORT),
            authority: url.authority.as_str().into(),
            auth: intercept.basic_auth().cloned(),
        })
    }
}

/// The port of a proxy URL that names none: the `http` scheme's, as the URL says.
const DEFAULT_PROXY_PORT: u16 = 80;

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `http proxy http://<redacted>@proxy:3128, https proxy …, no proxy for …`.
impl fmt::Display for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (scheme, url) in [("http", &self.http), ("https", &self.https)] {
            if let Some(u) = url {
                parts.push(format!("{scheme} proxy {u}"));
            }
        }
        if !self.no_proxy.is_empty() {
            parts.push(format!("no proxy for {}", self.no_proxy));
        }
        f.write_str(&parts.join(", "))
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let creds = if self.has_credentials {
            "<redacted>@"
        } else {
            ""
        };
        write!(f, "http://{creds}{}", self.authority)
    }
}

impl ProxyUrl {
    /// Checks `text` (from `source`, a flag or variable name for messages). Messages
    /// never quote the credentials.
    fn parse(text: &str, source: &str) -> Result<Self, Error> {
        let text = text.trim();
        let err = |why: &str| {
            Error::new(
                ErrorKind::Config,
                format!(
                    "invalid proxy URL in {source} ({}): {why}; expected http://[USER:PASSWORD@]HOST[:PORT], e.g. http://proxy.corp.example:3128",
                    redact(text)
                ),
            )
        };
        // A bare `host:port` means http://, as curl reads it.
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else {
            format!("http://{text}")
        };
        let uri: http::Uri = with_scheme.parse().map_err(|_| err("it is not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(err(
                    "https:// proxies (TLS to the proxy) are not supported; most proxies take http:// and tunnel https targets with CONNECT",
                ));
            }
            Some(other) => {
                return Err(err(&format!(
                    "the scheme {other}:// is not supported, only http:// proxies are"
                )));
            }
            None => return Err(err("it has no scheme")),
        }
        let authority = uri.authority().ok_or_else(|| err("it names no host"))?;
        let host = authority.host();
        if host.is_empty() {
            return Err(err("it names no host"));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(err("a proxy URL has no path or query"));
        }
        let has_credentials = authority.as_str().contains('@');
        let port = authority.port_u16().unwrap_or(DEFAULT_PROXY_PORT);
        Ok(Self {
            raw: with_scheme,
            authority: format!("{host}:{port}"),
            has_credentials,
        })
    }
}

/// `text` with any `user:password@` replaced, for messages.
fn redact(text: &str) -> String {
    let (scheme, rest) = match text.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), text),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}<redacted>@{}", &rest[at + 1..]),
        None => text.to_string(),
    }
}

/// Checks every entry of a NO_PROXY list: `*`, an IP address, a CIDR, or a domain
/// name with an optional leading dot. Returns the list as the matcher takes it.
fn check_no_proxy(list: &str, source: &str) -> Result<String, Error> {
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let ip = entry.trim_start_matches('[').trim_end_matches(']');
        let ok = entry == "*"
            || ip.parse::<IpAddr>().is_ok()
            || entry.parse::<ipnet::IpNet>().is_ok()
            || is_domain(entry.strip_prefix('.').unwrap_or(entry));
        if !ok {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "invalid entry {entry:?} in {source}: expected a host name (`example.com`, `.example.com`), an IP address, a CIDR (`10.0.0.0/8`) or `*`, separated by commas; ports and wildcards like `*.example.com` are not part of the syntax"
                ),
            ));
        }
    }
    Ok(list.trim().to_string())
}

fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> RequestTarget {
        RequestTarget::parse("GET", url).unwrap()
    }

    #[test]
    fn routes_both_schemes_and_sends_credentials_as_basic() {
        let p = ProxyConfig::new("http://user:s3cret@proxy.example:3128").unwrap();
        let r = p.route(&target("https://api.example.com/x")).unwrap();
        assert_eq!(r.host, Host::Name("proxy.example".into()));
        assert_eq!(r.port, 3128);
        assert_eq!(&*r.authority, "proxy.example:3128");
        // base64("user:s3cret")
        assert_eq!(r.auth.unwrap(), "Basic dXNlcjpzM2NyZXQ=");
        assert!(p.route(&target("http://api.example.com/x")).is_some());
    }

    #[test]
    fn credentials_never_show() {
        let p = ProxyConfig::new("http://user:s3cret@proxy.example:3128").unwrap();
        for text in [format!("{p}"), format!("{p:?}")] {
            assert!(!text.contains("s3cret"), "{text}");
            assert!(!text.contains("user"), "{text}");
            assert!(text.contains("<redacted>@proxy.example:3128"), "{text}");
        }
        let route = p.route(&target("https://a.example")).unwrap();
        assert!(!format!("{route:?}").contains("dXNlcjpzM2NyZXQ"));
        let e = ProxyConfig::new("https://user:s3cret@proxy.example").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert!(
            e.to_string().contains("https://<redacted>@proxy.example"),
            "{e}"
        );
    }

    #[test]
    fn no_proxy_bypasses_domains_ips_and_cidrs() {
        let p = ProxyConfig::new("http://127.0.0.1:3128")
            .unwrap()
            .no_proxy("internal.example, 10.0.0.0/8, 192.0.2.7, .corp")
            .unwrap();
        for direct in [
            "http://internal.example",
            "https://api.internal.example",
            "http://10.1.2.3:8080",
            "http://192.0.2.7",
            "https://x.corp",
        ] {
            assert!(p.route(&target(direct)).is_none(), "{direct}");
        }
        for proxied in [
            "http://notinternal.example",
            "http://11.0.0.1",
            "https://corp.example",
        ] {
            assert!(p.route(&target(proxied)).is_some(), "{proxied}");
        }
        let all = ProxyConfig::new("http://127.0.0.1:3128")
            .unwrap()
            .no_proxy("*")
            .unwrap();
        assert!(all.route(&target("https://a.example")).is_none());
    }

    #[test]
    fn bad_urls_and_lists_are_config_errors_quoting_them() {
        for (bad, why) in [
            ("socks5://127.0.0.1:1080", "socks5:// is not supported"),
            ("https://proxy:443", "https:// proxies"),
            ("http://proxy:3128/path", "no path"),
            ("http://", "not a URL"),
        ] {
            let e = ProxyConfig::new(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config);
            assert!(e.to_string().contains(why), "{bad}: {e}");
            assert!(e.to_string().contains("--proxy"), "{e}");
        }
        let e = ProxyConfig::new("http://p:1")
            .unwrap()
            .no_proxy("ok.example, *.bad.example")
            .unwrap_err();
        assert!(e.to_string().contains("\"*.bad.example\""), "{e}");
    }

    #[test]
    fn env_prefers_lower_case_and_needs_a_proxy_variable() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |n: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(
            ProxyConfig::from_vars(vars(&[("NO_PROXY", "x")]))
                .unwrap()
                .is_none()
        );
        let p = ProxyConfig::from_vars(vars(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "lower:2"),
            ("NO_PROXY", "skip.example"),
        ]))
        .unwrap()
        .unwrap();
        let r = p.route(&target("https://a.example")).unwrap();
        assert_eq!(&*r.authority, "lower:2");
        assert!(
            p.route(&target("http://a.example")).is_none(),
            "no http proxy set"
        );
        assert!(p.route(&target("https://skip.example")).is_none());
        let e = ProxyConfig::from_vars(vars(&[("HTTP_PROXY", "ftp://x")])).unwrap_err();
        assert!(e.to_string().contains("in HTTP_PROXY"), "{e}");
    }
}
