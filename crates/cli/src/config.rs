//! The `--config wasmgate.toml` file: everything the flags can say. Unknown keys are
//! errors. Relative paths are relative to the file's directory. Flags add to it (rules,
//! CIDRs, CA files, env, dirs) or override it (limits, timeout, memory, audit log).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    /// Allow rules, same syntax as `--allow`.
    #[serde(default)]
    pub(crate) allow: Vec<String>,
    /// Special-range addresses to permit, same as `--allow-cidr`.
    #[serde(default)]
    pub(crate) allow_cidr: Vec<String>,
    /// Extra CA certificate PEM files, same as `--ca-cert`.
    #[serde(default)]
    pub(crate) ca_certs: Vec<PathBuf>,
    /// Also trust the system store, same as `--ca-system`.
    #[serde(default)]
    pub(crate) ca_system: bool,
    /// Per-destination TLS (`[[tls]]` tables): CAs and client certificates by host.
    #[serde(default)]
    pub(crate) tls: Vec<crate::tls::TlsSection>,
    /// Guest environment, same as `--env`.
    #[serde(default)]
    pub(crate) env: BTreeMap<String, String>,
    /// Preopened directories, same as `--dir` (`HOST[::GUEST]`).
    #[serde(default)]
    pub(crate) dirs: Vec<String>,
    /// Whole-run timeout, same as `--timeout`.
    pub(crate) timeout: Option<String>,
    /// Guest memory cap, same as `--max-memory`.
    pub(crate) max_memory: Option<String>,
    /// JSONL audit log path, same as `--audit-log`.
    pub(crate) audit_log: Option<PathBuf>,
    /// Size cap of the compiled-code cache, same as `--cache-max-size`.
    pub(crate) cache_max_size: Option<String>,
    /// Per-request limits.
    #[serde(default)]
    pub(crate) limits: LimitsSection,
    /// HTTP proxy URL, same as `--proxy`.
    pub(crate) proxy: Option<String>,
    /// Hosts that bypass the proxy, same as `--no-proxy`.
    pub(crate) no_proxy: Option<String>,
    /// Read HTTPS_PROXY/HTTP_PROXY/NO_PROXY, same as `--proxy-from-env`.
    pub(crate) proxy_from_env: Option<bool>,
    /// `[[inject]]` tables: headers added to matching requests (docs/egress.md).
    #[serde(default)]
    pub(crate) inject: Vec<InjectSection>,
    /// `wasmgate serve` settings (ignored by `run`).
    #[serde(default)]
    pub(crate) serve: ServeSection,
    /// Recording requests to a HAR file, as `--record` and its options.
    #[serde(default)]
    pub(crate) record: RecordSection,
    /// Replaying a HAR file, as `--replay` and `--replay-missing`.
    #[serde(default)]
    pub(crate) replay: ReplaySection,
}

/// `[record]`: `file` is `--record`; the rest match its flags (see docs/record-replay.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordSection {
    pub(crate) file: Option<PathBuf>,
    pub(crate) max_body: Option<String>,
    #[serde(default)]
    pub(crate) redact_headers: Vec<String>,
    pub(crate) keep_secrets: Option<bool>,
}

/// `[replay]`: `file` is `--replay`, `missing` is `--replay-missing`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplaySection {
    pub(crate) file: Option<PathBuf>,
    pub(crate) missing: Option<String>,
}

/// `[serve]`: names match `wasmgate serve`'s flags without `--`, with underscores.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServeSection {
    pub(crate) addr: Option<String>,
    pub(crate) tls_cert: Option<PathBuf>,
    pub(crate) tls_key: Option<PathBuf>,
    pub(crate) metrics_addr: Option<String>,
    pub(crate) request_timeout: Option<String>,
    pub(crate) max_concurrent_handlers: Option<usize>,
    pub(crate) max_incoming_body: Option<String>,
    pub(crate) max_header_size: Option<String>,
    pub(crate) shutdown_timeout: Option<String>,
    pub(crate) access_log: Option<PathBuf>,
}

/// `[[inject]]`: `rule = "…"` and `headers = { name = "value template" }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InjectSection {
    pub(crate) rule: String,
    pub(crate) headers: BTreeMap<String, String>,
}

/// `[limits]`: names match the flags without `--`, with underscores.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsSection {
    pub(crate) connect_timeout: Option<String>,
    pub(crate) first_byte_timeout: Option<String>,
    pub(crate) between_bytes_timeout: Option<String>,
    pub(crate) max_request_body: Option<String>,
    pub(crate) max_response_body: Option<String>,
    pub(crate) max_concurrent_requests: Option<usize>,
    pub(crate) max_requests: Option<u64>,
}

/// Reads and parses a config file; relative paths in it are made relative to its folder.
pub(crate) fn load(path: &Path) -> Result<ConfigFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    parse(&text, path)
}

/// Parses the text of the config file at `path` (named in messages; relative paths in
/// it are made relative to its folder).
pub(crate) fn parse(text: &str, path: &Path) -> Result<ConfigFile, String> {
    let mut file: ConfigFile = toml::from_str(text).map_err(|e| {
        format!(
            "invalid config file {}: {}; see the \"Config file\" section of the README for the format",
            path.display(),
            e.to_string().trim_end()
        )
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    for ca in &mut file.ca_certs {
        if ca.is_relative() {
            *ca = base.join(&*ca);
        }
    }
    for tls in &mut file.tls {
        tls.resolve_paths(base);
    }
    for path in [
        &mut file.audit_log,
        &mut file.serve.tls_cert,
        &mut file.serve.tls_key,
        &mut file.serve.access_log,
        &mut file.record.file,
        &mut file.replay.file,
    ]
    .into_iter()
    .flatten()
    {
        if path.is_relative() {
            *path = base.join(&*path);
        }
    }
    for section in &mut file.inject {
        for value in section.headers.values_mut() {
            *value = relative_secret_files(value, base);
        }
    }
    for dir in &mut file.dirs {
        let (host, guest) = match dir.split_once("::") {
            Some((h, g)) => (h.to_string(), Some(g.to_string())),
            None => (dir.clone(), None),
        };
        if Path::new(&host).is_relative() {
            let joined = base.join(&host).display().to_string();
            // The guest path defaults to what the user wrote, not the joined host path.
            *dir = format!("{joined}::{}", guest.unwrap_or(host));
        }
    }
    Ok(file)
}

/// `template` with each relative `${file:PATH}` made relative to `base`, as every other
/// path in the file is.
fn relative_secret_files(template: &str, base: &Path) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find("${file:") {
        let (before, after) = rest.split_at(at + "${file:".len());
        out.push_str(before);
        let end = after.find('}').unwrap_or(after.len());
        let path = Path::new(&after[..end]);
        if path.is_relative() && !path.as_os_str().is_empty() {
            out.push_str(&base.join(path).display().to_string());
        } else {
            out.push_str(&after[..end]);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The config file at `path`, or an empty one when there is none (`--config` not given).
pub(crate) fn load_optional(path: Option<&Path>) -> Result<ConfigFile, String> {
    match path {
        Some(path) => load(path),
        None => Ok(ConfigFile::default()),
    }
}

/// The file's `allow` rules, then the `--allow` flags, parsed: shared by `run` and
/// `doctor` so both read a policy the same way.
pub(crate) fn allow_rules(
    file: &ConfigFile,
    flags: &[String],
) -> Result<Vec<wasmgate_policy::AllowRule>, String> {
    file.allow
        .iter()
        .chain(flags)
        .map(|r| wasmgate_policy::AllowRule::parse(r).map_err(|e| e.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, String> {
        let dir = std::env::temp_dir().join(format!("wasmgate-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("c{}.toml", text.len()));
        std::fs::write(&path, text).unwrap();
        load(&path)
    }

    #[test]
    fn accepts_every_key() {
        let c = parse(
            r#"
allow = ["https://api.example.com", "GET http://127.0.0.1:8080/v1"]
allow_cidr = ["10.0.0.0/8"]
ca_certs = ["corp.pem"]
ca_system = true
env = { TOKEN = "x" }
dirs = ["data::/data"]
timeout = "30s"
max_memory = "256MiB"
audit_log = "audit.jsonl"
proxy = "http://proxy.example:3128"
no_proxy = "internal.example, 10.0.0.0/8"
proxy_from_env = false
[[inject]]
rule = "https://api.example.com"
headers = { authorization = "Bearer ${env:API_TOKEN}", x-api-key = "${file:secrets/key}" }
[limits]
connect_timeout = "2s"
first_byte_timeout = "5s"
between_bytes_timeout = "5s"
max_request_body = "1MiB"
max_response_body = "10MiB"
max_concurrent_requests = 4
max_requests = 10
[serve]
addr = "0.0.0.0:9000"
tls_cert = "cert.pem"
tls_key = "key.pem"
metrics_addr = "127.0.0.1:9100"
request_timeout = "5s"
max_concurrent_handlers = 8
max_incoming_body = "1MiB"
max_header_size = "16KiB"
shutdown_timeout = "10s"
access_log = "access.jsonl"
[record]
file = "run.har"
max_body = "64KiB"
redact_headers = ["x-api-key"]
keep_secrets = false
[replay]
file = "run.har"
missing = "network"
[[tls]]
hosts = ["api.internal:8443", "*.corp.example"]
ca_certs = ["corp-ca.pem"]
client_cert = "client.pem"
client_key = "client.key"
"#,
        )
        .unwrap();
        assert_eq!(c.serve.max_concurrent_handlers, Some(8));
        assert!(c.serve.tls_cert.as_ref().unwrap().is_absolute());
        assert!(c.serve.access_log.as_ref().unwrap().is_absolute());
        assert!(c.record.file.as_ref().unwrap().is_absolute());
        assert_eq!(c.record.file, c.replay.file);
        assert_eq!(c.record.redact_headers, ["x-api-key"]);
        assert_eq!(c.allow.len(), 2);
        assert_eq!(c.limits.max_concurrent_requests, Some(4));
        assert!(c.ca_certs[0].is_absolute() || c.ca_certs[0].starts_with(std::env::temp_dir()));
        assert!(c.dirs[0].ends_with("::/data"), "{}", c.dirs[0]);
        assert_eq!(c.env.get("TOKEN").map(String::as_str), Some("x"));
        assert!(c.ca_system);
        assert_eq!(c.tls[0].hosts.len(), 2);
        assert!(c.tls[0].client_key.as_ref().unwrap().is_absolute());
        assert!(c.tls[0].ca_certs[0].is_absolute());
        assert_eq!(c.proxy.as_deref(), Some("http://proxy.example:3128"));
        assert_eq!(
            c.inject[0].headers["authorization"],
            "Bearer ${env:API_TOKEN}"
        );
        let key = &c.inject[0].headers["x-api-key"];
        assert!(
            key.starts_with("${file:/") && key.ends_with("secrets/key}"),
            "a relative secret file is relative to the config file: {key}"
        );
    }

    #[test]
    fn rejects_unknown_keys_naming_them() {
        let e = parse("alow = [\"https://x\"]\n").unwrap_err();
        assert!(e.contains("unknown field `alow`"), "{e}");
        let e = parse("[limits]\nmax_body = \"1MiB\"\n").unwrap_err();
        assert!(e.contains("unknown field `max_body`"), "{e}");
        let e = parse("[serve]\nport = 80\n").unwrap_err();
        assert!(e.contains("unknown field `port`"), "{e}");
    }

    #[test]
    fn rejects_wrong_types_and_missing_files() {
        let e = parse("allow = \"https://x\"\n").unwrap_err();
        assert!(e.contains("invalid type"), "{e}");
        let e = load(Path::new("/nonexistent/wasmgate.toml")).unwrap_err();
        assert!(
            e.contains("cannot read config file /nonexistent/wasmgate.toml"),
            "{e}"
        );
    }
}
