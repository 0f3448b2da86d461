//! Runs a guest through the library with a policy and collects what a user would see.

pub use crate::common::{Collect, Ran};
use std::path::PathBuf;
use std::sync::Arc;
use wasmgate::{GuestConfig, Runner, StaticResolver, Stdio};
use wasmgate_policy::{AllowRule, IpNet, Limits, Policy, parse_cidr};
pub use wasmgate_test_support::{Guest, TestCa, TestServer, guest};

#[derive(Default)]
pub struct Setup {
    pub owned_rules: Vec<String>,
    pub cidrs: Vec<IpNet>,
    pub limits: Limits,
    pub resolver: Option<StaticResolver>,
    pub ca: Option<PathBuf>,
    pub ca_system: bool,
    pub tls_entries: Vec<wasmgate::TlsEntry>,
    pub proxy: Option<wasmgate::ProxyConfig>,
    pub injections: Vec<wasmgate::Injection>,
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
    pub fn proxy(mut self, p: wasmgate::ProxyConfig) -> Self {
        self.proxy = Some(p);
        self
    }
    pub fn inject(mut self, i: wasmgate::Injection) -> Self {
        self.injections.push(i);
        self
    }

    pub fn ca_system(mut self) -> Self {
        self.ca_system = true;
        self
    }
    pub fn tls_entry(mut self, entry: wasmgate::TlsEntry) -> Self {
        self.tls_entries.push(entry);
        self
    }

    pub async fn run(self, g: Guest, args: &[&str]) -> Ran {
        self.run_wasm(&guest(g), args).await
    }

    /// Runs the `.wasm` file at `wasm` (any guest kind).
    pub async fn run_wasm(self, wasm: &std::path::Path, args: &[&str]) -> Ran {
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
        b = b.ca_system(self.ca_system);
        for entry in self.tls_entries {
            b = b.tls_entry(entry);
        }
        if let Some(p) = self.proxy {
            b = b.proxy(p);
        }
        for i in self.injections {
            b = b.inject(i);
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
            .run_file(wasm, &config)
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
