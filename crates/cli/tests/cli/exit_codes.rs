//! Exit codes: the guest's own code passes through; wasmgate's own outcomes use
//! 124 (timeout), 125 (usage/config), 126 (load/link), 127 (not found), 134 (trap).

use crate::support::*;

const RULE_GRAMMAR: &str = "expected [METHOD[,METHOD…] ]SCHEME://HOST[:PORT][/PATH-PREFIX]";

#[test]
fn wasip1_exit_code_passes_through() {
    let run = wasmgate(["run", &wasip1_hello(), "exit", "7"]);
    run.expect_code(7)
        .stdout_has("hello from wasip1\narg: exit\narg: 7\n");
    assert_eq!(run.stderr, "", "nothing of wasmgate's own on stderr");
}

#[test]
fn wasip1_exit_zero_and_other_codes() {
    wasmgate(["run", &wasip1_hello(), "exit", "0"]).expect_code(0);
    wasmgate(["run", &wasip1_hello(), "exit", "42"]).expect_code(42);
    // No command at all: main returns normally.
    wasmgate(["run", &wasip1_hello()])
        .expect_code(0)
        .stdout_has("hello from wasip1");
}

#[test]
fn http_client_success_exits_0() {
    let server = TestServer::http();
    let run = wasmgate([
        "run",
        "--allow",
        &server.base(),
        &http_client(),
        "get",
        &server.url("/hello"),
    ]);
    run.expect_code(0)
        .stdout_has("status: 200\n")
        .stdout_has(&format!("---\n{HELLO_BODY}\n"));
    assert_eq!(requests(&server), 1);
}

#[test]
fn http_client_denied_exits_1() {
    let server = TestServer::http();
    let run = wasmgate(["run", &http_client(), "get", &server.url("/hello")]);
    run.expect_code(1)
        .stderr_has("error: HttpRequestDenied")
        .stdout_lacks("status:");
    assert_eq!(requests(&server), 0, "a denied request must not be sent");
}

#[test]
fn invalid_allow_rule_exits_125_quoting_rule_and_form() {
    let run = wasmgate(["run", "--allow", "htp:/example.com", &wasip1_hello()]);
    run.expect_code(125)
        .stderr_has("error: invalid allow rule \"htp:/example.com\": missing \"://\"")
        .stderr_has(RULE_GRAMMAR)
        .stderr_has("e.g. --allow https://api.example.com");
    assert_eq!(run.stdout, "", "the guest must not run");
}

#[test]
fn invalid_allow_rule_port_names_the_port_grammar() {
    let run = wasmgate(["run", "--allow", "http://127.0.0.1:99999", &wasip1_hello()]);
    run.expect_code(125)
        .stderr_has("invalid allow rule \"http://127.0.0.1:99999\"")
        .stderr_has("PORT is 1-65535");
    assert_eq!(run.stdout, "");
}

#[test]
fn bad_env_exits_125() {
    let run = wasmgate(["run", "--env", "FOO", &wasip1_hello()]);
    run.expect_code(125)
        .stderr_has("error: invalid --env \"FOO\": expected KEY=VALUE, e.g. --env API_TOKEN=abc");
    assert_eq!(run.stdout, "");

    wasmgate(["run", "--env", "=value", &wasip1_hello()])
        .expect_code(125)
        .stderr_has("invalid --env \"=value\": the KEY before `=` is empty");
}

#[test]
fn bad_duration_and_size_flags_exit_125_naming_the_flag() {
    wasmgate(["run", "--timeout", "soon", &wasip1_hello()])
        .expect_code(125)
        .stderr_has("--timeout: invalid duration \"soon\"");
    wasmgate(["run", "--max-memory", "lots", &wasip1_hello()])
        .expect_code(125)
        .stderr_has("--max-memory: invalid size \"lots\"");
    wasmgate(["run", "--max-response-body", "1XB", &wasip1_hello()])
        .expect_code(125)
        .stderr_has("--max-response-body: invalid size \"1XB\"");
    wasmgate(["run", "--max-concurrent-requests", "0", &wasip1_hello()])
        .expect_code(125)
        .stderr_has("--max-concurrent-requests 0 would refuse every request");
}

#[test]
fn unknown_flag_exits_125() {
    let run = wasmgate(["run", "--allow-everything", &wasip1_hello()]);
    run.expect_code(125).stderr_has("--allow-everything");
    assert_eq!(run.stdout, "");
}

#[test]
fn unknown_config_key_exits_125_naming_it() {
    let dir = TempDir::new();
    let cfg = dir.write("wasmgate.toml", "alow = [\"http://127.0.0.1:1\"]\n");
    let run = wasmgate(["run", "--config", cfg.to_str().unwrap(), &wasip1_hello()]);
    run.expect_code(125)
        .stderr_has("invalid config file")
        .stderr_has("unknown field `alow`");
    assert_eq!(run.stdout, "");
}

#[test]
fn missing_file_exits_127() {
    let dir = TempDir::new();
    let missing = dir.path().join("nope.wasm");
    let run = wasmgate(["run", missing.to_str().unwrap()]);
    run.expect_code(127)
        .stderr_has(&format!("error: cannot read {}: ", missing.display()))
        .stderr_has("expected the path of a .wasm file");
}

#[test]
fn directory_instead_of_file_exits_127() {
    let dir = TempDir::new();
    wasmgate(["run", dir.path().to_str().unwrap()])
        .expect_code(127)
        .stderr_has("expected the path of a .wasm file");
}

#[test]
fn non_wasm_file_exits_126() {
    let dir = TempDir::new();
    let junk = dir.write(
        "junk.wasm",
        b"#!/bin/sh\necho this is not wasm\n\x00\x01\x02",
    );
    let run = wasmgate(["run", junk.to_str().unwrap()]);
    run.expect_code(126).stderr_has(&format!(
        "error: {} is not a WebAssembly binary",
        junk.display()
    ));
}

#[test]
fn truncated_wasm_exits_126() {
    let dir = TempDir::new();
    let full = std::fs::read(guest(Guest::Wasip1Hello)).unwrap();
    let cut = dir.write("cut.wasm", &full[..full.len() / 2]);
    let run = wasmgate(["run", cut.to_str().unwrap()]);
    run.expect_code(126).stderr_has(&format!(
        "error: cannot compile {}: it is not a valid WebAssembly module or component",
        cut.display()
    ));
    assert_eq!(run.stdout, "");
}

#[test]
fn truncated_component_exits_126() {
    let dir = TempDir::new();
    let full = std::fs::read(guest(Guest::HttpClient)).unwrap();
    let cut = dir.write("cut-component.wasm", &full[..full.len() / 3]);
    wasmgate(["run", cut.to_str().unwrap()])
        .expect_code(126)
        .stderr_has(&format!("error: cannot compile {}", cut.display()));
}

#[test]
fn trap_exits_134() {
    let run = wasmgate(["run", &wasip1_hello(), "trap"]);
    run.expect_code(134)
        .stdout_has("hello from wasip1")
        .stderr_has("error: the guest trapped");
}

#[test]
fn timeout_exits_124_naming_the_flag() {
    let run = wasmgate(["run", "--timeout", "1s", &wasip1_hello(), "spin"]);
    run.expect_code(124)
        .stderr_has("the guest ran longer than the --timeout of 1s; raise it with --timeout");
    assert!(
        run.elapsed < std::time::Duration::from_secs(20),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn max_memory_exits_134_naming_the_flag() {
    let run = wasmgate([
        "run",
        "--max-memory",
        "64MiB",
        &wasip1_hello(),
        "alloc",
        "300",
    ]);
    run.expect_code(134)
        .stdout_lacks("allocated")
        .stderr_has("more memory than the --max-memory of 64 MiB; raise it with --max-memory");
}

#[test]
fn allocation_under_max_memory_succeeds() {
    wasmgate([
        "run",
        "--max-memory",
        "64MiB",
        &wasip1_hello(),
        "alloc",
        "8",
    ])
    .expect_code(0)
    .stdout_has("allocated");
}

#[test]
fn help_exits_0() {
    let run = wasmgate(["--help"]);
    run.expect_code(0).stdout_has("run");
    let run = wasmgate(["run", "--help"]);
    run.expect_code(0)
        .stdout_has("--allow <RULE>")
        .stdout_has("--max-memory");
    wasmgate(["--version"])
        .expect_code(0)
        .stdout_has("wasmgate");
}

#[test]
fn unknown_flag_without_a_guest_exits_125() {
    // Clap's own errors are usage errors too.
    let run = wasmgate(["run", "--max-requests", "many", &wasip1_hello()]);
    run.expect_code(125).stderr_has("--max-requests");
    assert_eq!(run.stdout, "");
    wasmgate(["frobnicate"]).expect_code(125);
}

#[test]
fn everything_after_the_file_goes_to_the_guest() {
    // As with `wasmtime run`: flags after FILE.wasm are the guest's arguments.
    let run = wasmgate([
        "run",
        &wasip1_hello(),
        "-v",
        "--allow",
        "http://127.0.0.1:1",
        "--timeout",
        "x",
    ]);
    run.expect_code(0)
        .stdout_has("arg: -v\narg: --allow\narg: http://127.0.0.1:1\narg: --timeout\narg: x\n");
    assert_eq!(run.stderr, "");
}

#[test]
fn no_subcommand_is_a_usage_error() {
    wasmgate(Vec::<String>::new()).expect_code(125);
}

#[test]
fn an_initial_memory_over_max_memory_names_the_limit() {
    let dir = TempDir::new();
    // 100 pages = 6.25 MiB of initial memory.
    let wasm = dir.write(
        "big-memory.wasm",
        wat::parse_str(r#"(module (memory (export "memory") 100) (func (export "_start")))"#)
            .unwrap(),
    );
    let wasm = wasm.to_str().unwrap();
    for cap in ["1MiB", "0"] {
        let run = wasmgate(["run", "--max-memory", cap, wasm]);
        run.expect_code(134)
            .stderr_has("the guest's initial memory (6400 KiB) is larger than the --max-memory of")
            .stderr_has("raise it with --max-memory")
            .stderr_lacks("imports something");
    }
    wasmgate(["run", "--max-memory", "7MiB", wasm]).expect_code(0);
}
