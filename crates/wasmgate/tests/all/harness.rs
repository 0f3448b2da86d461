//! Runs a guest through the library with a policy and collects what a user would see.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use wasmgate::{EventSink, GuestConfig, RequestEvent, Runner, StaticResolver, Stdio};
use wasmgate_policy::{AllowRule, IpNet, Limits, Policy, parse_cidr};
pub use wasmgate_test_support::{Guest, TestCa, TestServer, guest};

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
    /// The guest succeeded; otherwise show everything.
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
}

#[derive(Default)]
pub struct Setup {
    pub owned_rules: Vec<String>,
    pub cidrs: Vec<IpNet>,
    pub limits: Limits,
    pub resolver: Option<StaticResolver>,
    pub ca: Option<PathBuf>,
}

impl Setup {
    pub fn allow(rule: impl Into<String>) -> Self {
        Self {
            owned_rules: vec![rule.into()],
            ..Self::default()
        }
    }
    pub fn cidr(mut self, c: &str) -> Self {
        self.cidrs.push(parse_cidr(c).unwrap());
        self
    }
    pub fn limits(mut self, f: impl FnOnce(&mut Limits)) -> Self {
        f(&mut self.limits);
        self
    }
    pub fn resolver(mut self, r: StaticResolver) -> Self {
        self.resolver = Some(r);
        self
    }
    pub fn ca(mut self, p: PathBuf) -> Self {
        self.ca = Some(p);
        self
    }

    pub async fn run(self, g: Guest, args: &[&str]) -> Ran {
        let rules = self
            .owned_rules
            .into_iter()
            .map(|r| AllowRule::parse(&r).unwrap())
            .collect();
        let events = Arc::new(Collect::default());
        let mut b = Runner::builder()
            .cache_dir(wasmgate_test_support::test_cache_dir())
            .policy(Policy::new(rules, self.cidrs, self.limits))
            .event_sink(events.clone());
        if let Some(r) = self.resolver {
            b = b.resolver(Arc::new(r));
        }
        if let Some(ca) = self.ca {
            b = b.ca_file(ca);
        }
        let runner = b.build().expect("runner");
        let config = GuestConfig {
            program_name: "guest.wasm".into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            stdio: Stdio::Capture,
            timeout: Some(std::time::Duration::from_secs(120)),
            ..GuestConfig::default()
        };
        let outcome = runner
            .run_file(&guest(g), &config)
            .await
            .expect("guest loads and links");
        // Events of requests whose bodies were dropped at exit are emitted by then.
        let events = events.0.lock().unwrap().clone();
        Ran {
            code: outcome.status,
            stdout: String::from_utf8_lossy(&outcome.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&outcome.stderr).into_owned(),
            events,
        }
    }
}

/// The `http://127.0.0.1:PORT` rule for a server.
pub fn rule_for(server: &TestServer) -> String {
    server.base()
}
