//! What the host-ABI guest tests share: run a guest through the library with a policy,
//! captured stdio and collected events, and assert on what it printed.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmgate::{EventSink, GuestConfig, RequestEvent, Runner, Stdio};
use wasmgate_policy::{AllowRule, Limits, Policy};

#[derive(Default)]
pub struct Collect(pub Mutex<Vec<RequestEvent>>);

impl EventSink for Collect {
    fn on_request(&self, event: &RequestEvent) {
        self.0.lock().unwrap().push(event.clone());
    }
}

/// What a run produced.
pub struct Ran {
    pub code: Result<i32, wasmgate::Error>,
    pub stdout: String,
    pub stderr: String,
    pub events: Vec<RequestEvent>,
}

impl Ran {
    /// The guest failed with exactly this wasi:http error line.
    pub fn guest_error(&self, expected: &str) -> &Self {
        assert!(
            matches!(self.code, Ok(1)),
            "guest should exit 1: {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        assert!(
            self.stderr
                .lines()
                .any(|l| l == format!("error: {expected}")),
            "expected `error: {expected}` in guest stderr:\n{}",
            self.stderr
        );
        self
    }
    /// The only event's error text.
    pub fn last_error(&self) -> String {
        self.events
            .iter()
            .rev()
            .find_map(|e| e.error.as_ref().map(|e| e.to_string()))
            .unwrap_or_else(|| panic!("no event with an error: {:?}", self.events))
    }

    pub fn ok(&self) -> &Self {
        assert!(
            matches!(self.code, Ok(0)),
            "guest failed: {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn failed(&self) -> &Self {
        assert!(
            matches!(self.code, Ok(1)),
            "guest should exit 1: {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// The number after `prefix` on a stdout line.
    pub fn number(&self, prefix: &str) -> u64 {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in stdout:\n{}", self.stdout))
            .trim()
            .parse()
            .unwrap()
    }

    /// The `error: ` line on stderr.
    pub fn error_line(&self) -> &str {
        self.stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("no error line:\n{}", self.stderr))
    }

    pub fn has_line(&self, line: &str) -> &Self {
        assert!(
            self.stdout.lines().any(|l| l == line),
            "expected the line `{line}` in stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// The body printed after `---`.
    pub fn body(&self) -> &str {
        let (_, body) = self
            .stdout
            .split_once("\n---\n")
            .unwrap_or_else(|| panic!("no body in stdout:\n{}", self.stdout));
        body.strip_suffix('\n').unwrap_or(body)
    }
}

/// How to run a guest.
pub struct Run {
    pub rules: Vec<String>,
    pub max_memory: Option<u64>,
    /// Proxy and injected headers (docs/egress.md).
    pub egress: Egress,
}

/// What `Run` hands to `RunnerBuilder::proxy` and `::inject`.
#[derive(Default)]
pub struct Egress {
    pub proxy: Option<wasmgate::ProxyConfig>,
    pub injections: Vec<wasmgate::Injection>,
}

impl Run {
    pub fn allow(rule: impl Into<String>) -> Self {
        Self {
            rules: vec![rule.into()],
            max_memory: None,
            egress: Egress::default(),
        }
    }

    pub fn deny_all() -> Self {
        Self {
            rules: vec![],
            max_memory: None,
            egress: Egress::default(),
        }
    }

    pub fn proxy(mut self, proxy: wasmgate::ProxyConfig) -> Self {
        self.egress.proxy = Some(proxy);
        self
    }

    pub fn inject(mut self, injection: wasmgate::Injection) -> Self {
        self.egress.injections.push(injection);
        self
    }

    pub fn max_memory(mut self, bytes: u64) -> Self {
        self.max_memory = Some(bytes);
        self
    }

    pub async fn run(self, wasm: &Path, args: &[&str]) -> Ran {
        let rules = self
            .rules
            .iter()
            .map(|r| AllowRule::parse(r).unwrap())
            .collect();
        let events = Arc::new(Collect::default());
        let mut builder = Runner::builder()
            .cache_dir(wasmgate_test_support::test_cache_dir())
            .policy(Policy::new(rules, vec![], Limits::default()))
            .event_sink(events.clone());
        if let Some(p) = self.egress.proxy {
            builder = builder.proxy(p);
        }
        for i in self.egress.injections {
            builder = builder.inject(i);
        }
        let runner = builder.build().expect("runner");
        let mut config = GuestConfig {
            program_name: "guest.wasm".into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            stdio: Stdio::Capture,
            timeout: Some(Duration::from_secs(180)),
            ..GuestConfig::default()
        };
        if let Some(m) = self.max_memory {
            config.max_memory = m;
        }
        let outcome = runner
            .run_file(wasm, &config)
            .await
            .expect("guest loads and links");
        let events = events.0.lock().unwrap().clone();
        Ran {
            code: outcome.status,
            stdout: String::from_utf8_lossy(&outcome.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&outcome.stderr).into_owned(),
            events,
        }
    }
}

/// `n` bytes of the repeating `0123456789abcdef`.
pub fn pattern(n: usize) -> String {
    "0123456789abcdef".chars().cycle().take(n).collect()
}
