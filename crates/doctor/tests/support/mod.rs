//! The cases of the golden tests: WAT fixtures, guests built from source, and policy and
//! malformed-input variants; plus the golden-file comparison.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use wasmgate_doctor::{Context, diagnose};
use wasmgate_policy::AllowRule;
use wasmgate_test_support::tinygo::{Target, tinygo, tinygo_guest};
use wasmgate_test_support::{Guest, guest};

/// One input and how doctor is asked about it.
#[derive(Clone)]
pub struct Case {
    pub name: String,
    pub bytes: Vec<u8>,
    pub ctx: Context,
    /// Built by a real toolchain: version numbers in the output are normalised.
    pub built: bool,
    /// An example guest of the repository (must report no error).
    pub example: bool,
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn wat_case(name: &str) -> Case {
    Case {
        name: name.to_string(),
        bytes: wat::parse_file(fixture(&format!("{name}.wat"))).expect("fixture parses"),
        ctx: Context::default(),
        built: false,
        example: false,
    }
}

fn with_rules(name: &str, base: &str, rules: &[&str], given: bool) -> Case {
    Case {
        name: name.to_string(),
        ctx: Context {
            rules: rules.iter().map(|r| AllowRule::parse(r).unwrap()).collect(),
            policy_given: given,
        },
        ..wat_case(base)
    }
}

fn built_case(name: &str, path: &Path, example: bool) -> Case {
    Case {
        name: name.to_string(),
        bytes: std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())),
        ctx: Context::default(),
        built: true,
        example,
    }
}

/// `crates/doctor/tests/fixtures/go-nethttp` built with mainline Go for wasip1.
fn go_nethttp() -> PathBuf {
    let out_dir = repo_root().join("target/go-guests");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join(format!("doctor-go-nethttp.{}.wasm", std::process::id()));
    let result = wasmgate_test_support::go::go_command()
        .current_dir(fixture("go-nethttp"))
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        .arg("build")
        .arg("-o")
        .arg(&out)
        .arg(".")
        .output()
        .expect("run go build");
    assert!(
        result.status.success(),
        "go build failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

/// `examples/fetch` (its own workspace), built as the demo builds it.
fn example_fetch() -> PathBuf {
    let root = repo_root();
    let target = root.join("target/examples");
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root.join("examples/fetch"))
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("run cargo for examples/fetch");
    assert!(
        out.status.success(),
        "building examples/fetch failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("wasm32-wasip2/release/fetch.wasm")
}

/// The real TinyGo builds: guest/go's `netdev` program (plain net/http, the seed failure)
/// and `ordinary` program (net/http through `wasmgate.Install()`), for both targets, and
/// the netdev builds stripped of producers and names as a size-conscious user ships
/// them. None without TinyGo (outside CI; the helper prints the skip).
fn tinygo_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (target, name) in [(Target::Wasip1, "wasip1"), (Target::Wasip2, "wasip2")] {
        let Some(netdev) = tinygo_guest("netdev", target) else {
            return Vec::new();
        };
        let netdev = built_case(&format!("tinygo-{name}-real-netdev"), &netdev, false);
        cases.push(Case {
            name: format!("{}-stripped", netdev.name),
            bytes: strip(&netdev.bytes),
            ..netdev.clone()
        });
        cases.push(netdev);
        if let Some(ordinary) = tinygo_guest("ordinary", target) {
            let name = format!("tinygo-{name}-real-transport");
            cases.push(built_case(&name, &ordinary, true));
        }
    }
    cases
}

/// `wasm-tools strip -a` (wasm-tools ships with the TinyGo install): every custom
/// section goes, at every nesting depth.
fn strip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    use std::process::Stdio;
    let tinygo = tinygo().expect("TinyGo was found for the build");
    let path = format!(
        "{}:{}",
        tinygo.path,
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new("wasm-tools")
        .env("PATH", path)
        .args(["strip", "-a"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run wasm-tools from the TinyGo install");
    // wasm-tools reads all of stdin before writing, so writing first cannot deadlock.
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "wasm-tools strip failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every case, built once per test process.
pub fn all_cases() -> Vec<Case> {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES
        .get_or_init(|| {
            let mut cases: Vec<Case> = [
                "tinygo-wasip1-netdev",
                "tinygo-wasip2-netdev",
                "component-wasi-0.2.0",
                "component-wasi-0.2.13",
                "component-wasi-0.3",
                "component-sockets-only",
                "component-unknown-imports",
                "component-proxy",
                "unknown-imports",
                "abi-malloc-workaround",
                "reactor",
                "invalid",
            ]
            .into_iter()
            .map(wat_case)
            .collect();
            cases.push(with_rules(
                "policy-redis-only",
                "component-wasi-0.2.0",
                &["redis://cache.example.com:6379"],
                true,
            ));
            cases.push(with_rules(
                "policy-empty-config",
                "component-wasi-0.2.0",
                &[],
                true,
            ));
            cases.push(with_rules(
                "policy-allow-all",
                "component-wasi-0.2.0",
                &["*://*:*"],
                true,
            ));
            cases.push(with_rules(
                "policy-rules-unused",
                "tinygo-wasip1-netdev",
                &["https://api.example.com"],
                true,
            ));
            cases.push(Case {
                name: "not-wasm".into(),
                bytes: b"(module)\n".to_vec(),
                ..wat_case("reactor")
            });
            let tinygo = wat_case("tinygo-wasip1-netdev").bytes;
            cases.push(Case {
                name: "truncated".into(),
                bytes: tinygo[..tinygo.len() / 2].to_vec(),
                ..wat_case("reactor")
            });
            cases.push(built_case(
                "rust-wasip1-hello",
                &guest(Guest::Wasip1Hello),
                true,
            ));
            cases.push(built_case(
                "rust-wasip2-http-client",
                &guest(Guest::HttpClient),
                true,
            ));
            cases.push(built_case(
                "rust-wasip2-wstd-client",
                &guest(Guest::WstdClient),
                true,
            ));
            let go = wasmgate_test_support::go::go_guest;
            cases.push(built_case("go-wasip1-transport", &go("httpclient"), true));
            cases.push(built_case(
                "go-wasip1-example-get",
                &go("examples/get"),
                true,
            ));
            let nethttp = go_nethttp();
            cases.push(built_case("go-wasip1-nethttp", &nethttp, false));
            let _ = std::fs::remove_file(&nethttp);
            cases.push(built_case("example-fetch", &example_fetch(), true));
            let c = wasmgate_test_support::c::c_guest;
            cases.push(built_case("c-wasip1-example-get", &c("get"), true));
            let rust = wasmgate_test_support::rust_guest::rust_guest;
            cases.push(built_case(
                "rust-guest-wasip1-example-get",
                &rust("get", "wasm32-wasip1"),
                true,
            ));
            cases.push(built_case(
                "rust-guest-wasip2-example-get",
                &rust("get", "wasm32-wasip2"),
                true,
            ));
            cases.extend(tinygo_cases());
            cases
        })
        .clone()
}

/// Version numbers and counts differ between toolchain releases: a run of digits that
/// does not continue a word (`wasip1`, `_v1` stay) becomes `N`.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev: Option<char> = None;
    let mut replacing = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if replacing {
                prev = Some(c);
                continue;
            }
            if !prev.is_some_and(|p| p.is_ascii_alphanumeric() || p == '_') {
                out.push('N');
                replacing = true;
                prev = Some(c);
                continue;
            }
        } else {
            replacing = false;
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

/// Compares (or with UPDATE_GOLDEN=1 rewrites) the case's two golden files.
pub fn check_golden(case: &Case) -> Result<(), String> {
    let report = diagnose(&case.bytes, &case.ctx);
    let file = format!("{}.wasm", case.name);
    let mut outputs = [("txt", report.human(&file)), ("json", report.json(&file))];
    if case.built {
        for (_, text) in &mut outputs {
            *text = normalise(text);
        }
    }
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut errors = Vec::new();
    for (ext, actual) in outputs {
        let path = golden_dir().join(format!("{}.{ext}", case.name));
        if update {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected != actual {
            errors.push(format!(
                "golden mismatch for {} (rerun with UPDATE_GOLDEN=1 to accept):\n--- expected\n{expected}\n--- actual\n{actual}",
                path.display()
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}
