//! `--config FILE`: rules, limits, env and dirs from TOML; flags add to or override it;
//! `--env` and `--dir` reach the guest.

use crate::support::*;

fn cfg_arg(p: &std::path::Path) -> String {
    p.to_str().unwrap().to_string()
}

#[test]
fn config_allow_rules_and_limits_apply() {
    let server = TestServer::http();
    let dir = TempDir::new();
    let cfg = dir.write(
        "wasmgate.toml",
        format!(
            "allow = [\"{}\"]\n[limits]\nmax_response_body = \"1KiB\"\n",
            server.base()
        ),
    );
    wasmgate([
        "run",
        "--config",
        &cfg_arg(&cfg),
        &http_client(),
        "get",
        &server.url("/hello"),
    ])
    .expect_code(0)
    .stdout_has(HELLO_BODY);

    let run = wasmgate([
        "run",
        "--config",
        &cfg_arg(&cfg),
        &http_client(),
        "download",
        &server.url("/bytes/100000"),
    ]);
    run.expect_code(1)
        .stderr_has("error: HttpResponseBodySize")
        .stderr_has("response body size limit of 1 KiB reached; raise it with --max-response-body (or `max_response_body` in the config file)");
}

#[test]
fn flags_add_to_config_rules() {
    let server = TestServer::http();
    let dir = TempDir::new();
    let cfg = dir.write(
        "wasmgate.toml",
        format!("allow = [\"GET {}/hello\"]\n", server.base()),
    );
    let extra = format!("POST {}/sink", server.base());
    // The config's rule still applies with a flag rule added…
    wasmgate([
        "run",
        "--config",
        &cfg_arg(&cfg),
        "--allow",
        &extra,
        &http_client(),
        "get",
        &server.url("/hello"),
    ])
    .expect_code(0)
    .stdout_has(HELLO_BODY);
    // …and the flag's rule applies besides the config's.
    wasmgate([
        "run",
        "--config",
        &cfg_arg(&cfg),
        "--allow",
        &extra,
        &http_client(),
        "post",
        &server.url("/sink"),
        "10",
    ])
    .expect_code(0)
    .stdout_has("received 10");
    // Without the flag, the config alone does not allow the POST.
    wasmgate([
        "run",
        "--config",
        &cfg_arg(&cfg),
        &http_client(),
        "post",
        &server.url("/sink"),
        "10",
    ])
    .expect_code(1)
    .stderr_has(&format!("wasmgate: denied POST {}", server.url("/sink")));
    assert_eq!(requests(&server), 2);
}

#[test]
fn flag_limits_override_config_limits() {
    let server = TestServer::http();
    let dir = TempDir::new();
    let cfg = dir.write(
        "wasmgate.toml",
        format!(
            "allow = [\"{}\"]\n[limits]\nmax_requests = 1\n",
            server.base()
        ),
    );
    let url = server.url("/hello");
    wasmgate([
        "run",
        "--config",
        &cfg_arg(&cfg),
        &http_client(),
        "seq",
        &url,
        "3",
    ])
    .expect_code(1)
    .stdout_has("ok: 1")
    .stderr_has("--max-requests");
    wasmgate([
        "run",
        "--config",
        &cfg_arg(&cfg),
        "--max-requests",
        "3",
        &http_client(),
        "seq",
        &url,
        "3",
    ])
    .expect_code(0)
    .stdout_has("ok: 3");
}

#[test]
fn config_env_and_relative_dirs_reach_the_guest() {
    let dir = TempDir::new();
    dir.write("data/greeting.txt", "hi from a preopened dir\n");
    let cfg = dir.write(
        "conf/wasmgate.toml",
        "env = { GREETING = \"from-config\", OTHER = \"o\" }\ndirs = [\"../data::/data\"]\n",
    );
    // Run from elsewhere: the relative dir is relative to the config file.
    let elsewhere = TempDir::new();
    let run = wasmgate_in(
        Some(elsewhere.path()),
        [
            "run",
            "--config",
            &cfg_arg(&cfg),
            &wasip1_hello(),
            "read-file",
            "/data/greeting.txt",
        ],
    );
    run.expect_code(0)
        .stdout_has("env: GREETING=from-config\n")
        .stdout_has("env: OTHER=o\n")
        .stdout_has("hi from a preopened dir\n");
}

#[test]
fn env_flag_overrides_config_env() {
    let dir = TempDir::new();
    let cfg = dir.write(
        "wasmgate.toml",
        "env = { GREETING = \"from-config\", OTHER = \"o\" }\n",
    );
    let run = wasmgate([
        "run",
        "--config",
        &cfg_arg(&cfg),
        "--env",
        "GREETING=from-flag",
        &wasip1_hello(),
    ]);
    run.expect_code(0)
        .stdout_has("env: GREETING=from-flag\n")
        .stdout_lacks("from-config")
        .stdout_has("env: OTHER=o\n");
}

#[test]
fn env_flag_reaches_the_guest() {
    let run = wasmgate([
        "run",
        "--env",
        "API_TOKEN=abc=def",
        "-e",
        "EMPTY=",
        &wasip1_hello(),
    ]);
    run.expect_code(0)
        .stdout_has("env: API_TOKEN=abc=def\n")
        .stdout_has("env: EMPTY=\n");
    // The host's environment is not passed through.
    let run = wasmgate(["run", &wasip1_hello()]);
    run.expect_code(0);
    assert!(!run.stdout.contains("env: "), "{}", run.stdout);
    // Also for components.
    wasmgate(["run", "--env", "K=v", &http_client(), "env"])
        .expect_code(0)
        .stdout_has("env: K=v\n")
        .stdout_has("arg: env\n");
}

#[test]
fn dir_flag_reaches_the_guest() {
    let dir = TempDir::new();
    dir.write("files/a.txt", "contents of a\n");
    let host = dir.path().join("files");
    let run = wasmgate([
        "run",
        "--dir",
        &format!("{}::/mnt", host.display()),
        &wasip1_hello(),
        "read-file",
        "/mnt/a.txt",
    ]);
    run.expect_code(0).stdout_has("contents of a\n");

    // The component sees it too.
    wasmgate([
        "run",
        "--dir",
        &format!("{}::/mnt", host.display()),
        &http_client(),
        "read-file",
        "/mnt/a.txt",
    ])
    .expect_code(0)
    .stdout_has("contents of a\n");

    // Without --dir the file is out of reach.
    let run = wasmgate(["run", &wasip1_hello(), "read-file", "/mnt/a.txt"]);
    run.expect_code(1).stderr_has("error: ");
    assert!(!run.stdout.contains("contents of a"));
}

#[test]
fn unknown_limits_key_exits_125_naming_it() {
    let dir = TempDir::new();
    let cfg = dir.write("wasmgate.toml", "[limits]\nmax_body = \"1MiB\"\n");
    let run = wasmgate(["run", "--config", &cfg_arg(&cfg), &wasip1_hello()]);
    run.expect_code(125)
        .stderr_has(&format!("invalid config file {}", cfg.display()))
        .stderr_has("unknown field `max_body`");
    assert_eq!(run.stdout, "");
}

#[test]
fn invalid_rule_in_config_exits_125() {
    let dir = TempDir::new();
    let cfg = dir.write("wasmgate.toml", "allow = [\"127.0.0.1:8080\"]\n");
    wasmgate(["run", "--config", &cfg_arg(&cfg), &wasip1_hello()])
        .expect_code(125)
        .stderr_has("invalid allow rule \"127.0.0.1:8080\"");
}

#[test]
fn missing_config_file_exits_125() {
    let dir = TempDir::new();
    let cfg = dir.path().join("absent.toml");
    wasmgate(["run", "--config", &cfg_arg(&cfg), &wasip1_hello()])
        .expect_code(125)
        .stderr_has(&format!("cannot read config file {}", cfg.display()));
}

#[test]
fn config_audit_log_is_relative_to_the_config_file() {
    let server = TestServer::http();
    let dir = TempDir::new();
    let cfg = dir.write(
        "conf/wasmgate.toml",
        format!(
            "allow = [\"{}\"]\naudit_log = \"audit.jsonl\"\n",
            server.base()
        ),
    );
    let elsewhere = TempDir::new();
    wasmgate_in(
        Some(elsewhere.path()),
        [
            "run",
            "--config",
            &cfg_arg(&cfg),
            &http_client(),
            "get",
            &server.url("/hello"),
        ],
    )
    .expect_code(0);
    let text = std::fs::read_to_string(dir.path().join("conf/audit.jsonl"))
        .expect("audit log next to the config file");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(!elsewhere.path().join("audit.jsonl").exists());
}
