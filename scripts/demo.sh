#!/usr/bin/env bash
# A two-minute tour of wasmgate (the first build takes a few minutes more):
# builds wasmgate, a local demo HTTP server and the example guest
# examples/fetch, then runs the guest twice against the server on 127.0.0.1:
#   (a) a request the --allow rule permits: it succeeds;
#   (b) a request outside the rule's path prefix: wasmgate refuses it and
#       prints the exact --allow flag that would permit it.
# Nothing leaves the machine. Exits 0 when (a) succeeded and (b) was refused.
# Usage: bash scripts/demo.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Prints a command the way it would be typed, quoting arguments that need it.
show() {
    local out="" a
    for a in "$@"; do
        if [[ "$a" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
            out+="$a "
        else
            out+="'${a//\'/\'\\\'\'}' "
        fi
    done
    echo "\$ ${out% }"
}

# Echoes a command, then runs it.
run() {
    show "$@"
    "$@"
}

explain() {
    echo
    echo "### $*"
}

server_pid=""
out=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ -n "$out" ]; then
        rm -f "$out"
    fi
}
trap cleanup EXIT

# One stream, so wasmgate's stderr lines appear in order with the guest's output
# even when this script's output is piped or logged.
exec 2>&1

explain "Set-up: Rust WebAssembly targets"
run bash scripts/setup.sh

explain "Build wasmgate and the demo server (debug build, shared with the tests)"
run cargo build -p wasmgate-cli -p wasmgate-test-support --bins

explain "Build the example guest examples/fetch for wasm32-wasip2"
echo "\$ (cd examples/fetch && CARGO_TARGET_DIR=$root/target/examples cargo build --release --target wasm32-wasip2)"
(cd examples/fetch && CARGO_TARGET_DIR="$root/target/examples" cargo build --release --target wasm32-wasip2)

wasmgate=target/debug/wasmgate
fetch=target/examples/wasm32-wasip2/release/fetch.wasm

explain "Start a local HTTP server on 127.0.0.1 (it stops when this script ends)"
show target/debug/demo-server
coproc DEMO_SERVER { exec target/debug/demo-server; }
server_pid=$DEMO_SERVER_PID
line=""
if ! read -r -t 30 line <&"${DEMO_SERVER[0]}"; then
    echo "demo: the demo server did not report its address within 30 s" >&2
    exit 1
fi
echo "$line"
if [[ ! "$line" =~ ^listening\ on\ http://127\.0\.0\.1:([0-9]+)$ ]]; then
    echo "demo: unexpected line from the demo server: $line" >&2
    exit 1
fi
port=${BASH_REMATCH[1]}
base="http://127.0.0.1:$port"
rule="GET $base/hello"

explain "(a) The rule '$rule' allows this GET; -v prints one line per request."
a_ok=false
if run "$wasmgate" run -v --allow "$rule" "$fetch" "$base/hello"; then
    a_ok=true
fi

explain "(b) Same rule, but /status/500 is outside its path prefix /hello: wasmgate refuses the request before it leaves, and says which --allow would permit it. The guest gets a wasi:http error and exits 1 (expected)."
out=$(mktemp)
show "$wasmgate" run --allow "$rule" "$fetch" "$base/status/500"
set +e
"$wasmgate" run --allow "$rule" "$fetch" "$base/status/500" 2>&1 | tee "$out"
b_status=${PIPESTATUS[0]}
set -e
echo "(exit status $b_status)"
b_ok=false
if [ "$b_status" -ne 0 ] &&
    grep -qF "wasmgate: denied GET $base/status/500" "$out" &&
    grep -qF "to allow it, add: --allow" "$out"; then
    b_ok=true
fi

echo
if $a_ok && $b_ok; then
    echo "demo: OK: (a) the allowed request succeeded, (b) the request outside the rule was refused."
    echo "Next: bash scripts/test.sh runs every test; README.md explains rules, limits and the config file."
    exit 0
fi
$a_ok || echo "demo: FAILED: (a) the allowed request did not succeed" >&2
$b_ok || echo "demo: FAILED: (b) the request outside the rule was not refused with a denial line" >&2
exit 1
