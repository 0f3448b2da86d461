//! The proxy and injection flags of `run` and `serve` (flattened into `GuestFlags`):
//! `--proxy`, `--no-proxy`, `--proxy-from-env`, `--inject`, and their config keys.
//! docs/egress.md is the user's guide.

use crate::config::ConfigFile;
use clap::Args;
use wasmgate::{Injection, ProxyConfig, RunnerBuilder};

/// Proxy and injected-header flags.
#[derive(Args)]
pub(crate) struct EgressFlags {
    /// Send requests through this HTTP proxy: `http://[USER:PASSWORD@]HOST[:PORT]`
    /// (CONNECT for https targets, absolute-form requests for http ones).
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// Hosts that bypass the proxy, comma-separated as in NO_PROXY: names (and their
    /// subdomains), IP addresses, CIDRs, or `*`.
    #[arg(long, value_name = "LIST")]
    no_proxy: Option<String>,
    /// Use the proxies in HTTPS_PROXY/HTTP_PROXY and the bypass list in NO_PROXY (and
    /// their lower-case forms); off by default. --proxy and --no-proxy take precedence.
    #[arg(long)]
    proxy_from_env: bool,
    /// Add a header to the allowed requests RULE matches, with a value the guest never
    /// sees: `'RULE NAME: VALUE'` (repeatable), VALUE with `${env:VAR}` or
    /// `${file:PATH}`, e.g. `'https://api.example.com authorization: Bearer ${env:API_TOKEN}'`.
    #[arg(long, value_name = "'RULE NAME: VALUE'")]
    inject: Vec<String>,
}

/// The flags and config keys, validated (secrets resolved).
#[derive(Default)]
pub(crate) struct EgressPlan {
    proxy: Option<ProxyConfig>,
    injections: Vec<Injection>,
}

impl EgressFlags {
    /// Validates the flags over the config file's `proxy`, `no_proxy`, `proxy_from_env`
    /// and `[[inject]]`: flags override the file's proxy settings and add injections
    /// after the file's.
    pub(crate) fn plan(&self, file: &mut ConfigFile) -> Result<EgressPlan, String> {
        let from_env = self.proxy_from_env || file.proxy_from_env.unwrap_or(false);
        let url = self.proxy.as_deref().or(file.proxy.as_deref());
        let mut proxy = match url {
            Some(url) => Some(ProxyConfig::new(url).map_err(|e| e.to_string())?),
            None if from_env => ProxyConfig::from_env().map_err(|e| e.to_string())?,
            None => None,
        };
        let no_proxy = self.no_proxy.as_deref().or(file.no_proxy.as_deref());
        if let Some(list) = no_proxy {
            let Some(p) = proxy else {
                return Err(format!(
                    "--no-proxy {list:?} is given without a proxy; add --proxy URL (or --proxy-from-env with HTTPS_PROXY/HTTP_PROXY set)"
                ));
            };
            proxy = Some(p.no_proxy(list).map_err(|e| e.to_string())?);
        }

        let mut injections = Vec::new();
        for section in std::mem::take(&mut file.inject) {
            let headers = section
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()));
            injections.push(Injection::new(&section.rule, headers).map_err(|e| e.to_string())?);
        }
        for text in &self.inject {
            let (rule, name, value) = split_inject(text)?;
            injections.push(Injection::new(rule, [(name, value)]).map_err(|e| e.to_string())?);
        }
        Ok(EgressPlan { proxy, injections })
    }
}

impl EgressPlan {
    /// Hands the proxy and injections to the runner.
    pub(crate) fn apply(&self, mut builder: RunnerBuilder) -> RunnerBuilder {
        if let Some(p) = &self.proxy {
            builder = builder.proxy(p.clone());
        }
        for inj in &self.injections {
            builder = builder.inject(inj.clone());
        }
        builder
    }
}

/// `RULE NAME: VALUE` → (rule, name, value). The header name is the first
/// whitespace-separated word ending in `:`; rules (`[METHODS ]SCHEME://HOST…`) have none.
/// Messages quote the flag only up to the value, which may be a secret.
fn split_inject(text: &str) -> Result<(&str, &str, &str), String> {
    let mut offset = 0;
    for word in text.split_inclusive(char::is_whitespace) {
        let start = offset;
        offset += word.len();
        let Some(name) = word.trim_end().strip_suffix(':') else {
            continue;
        };
        let is_token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
        if !is_token {
            continue;
        }
        let rule = text[..start].trim();
        if rule.is_empty() {
            break;
        }
        let value = text[start + word.trim_end().len()..].trim();
        return Ok((rule, name, value));
    }
    // Up to the rule's URL only: the rest may hold a secret.
    let mut shown = Vec::new();
    for word in text.split_whitespace() {
        shown.push(word);
        if word.contains("://") || shown.len() == 2 {
            break;
        }
    }
    let shown = shown.join(" ");
    Err(format!(
        "invalid --inject starting {shown:?}: expected 'RULE NAME: VALUE', e.g. --inject 'https://api.example.com authorization: Bearer ${{env:API_TOKEN}}'"
    ))
}

#[cfg(test)]
mod tests {
    use super::split_inject;

    #[test]
    fn inject_flags_split_at_the_header_name() {
        assert_eq!(
            split_inject("https://api.example.com authorization: Bearer ${env:T}").unwrap(),
            (
                "https://api.example.com",
                "authorization",
                "Bearer ${env:T}"
            )
        );
        assert_eq!(
            split_inject("GET,POST https://a.example:8443/v1 x-api-key:   k:v ").unwrap(),
            ("GET,POST https://a.example:8443/v1", "x-api-key", "k:v")
        );
        assert_eq!(
            split_inject("http://127.0.0.1:80 x-empty:").unwrap(),
            ("http://127.0.0.1:80", "x-empty", "")
        );
        for bad in [
            "https://api.example.com",
            "authorization: Bearer x",
            "https://a.example authorization=x",
        ] {
            let e = split_inject(bad).unwrap_err();
            assert!(e.contains("expected 'RULE NAME: VALUE'"), "{bad}: {e}");
        }
    }
}
