#!/usr/bin/env bash
# Runs every check and test of the repository, as CI does:
#   formatting, clippy (host workspace, test guests, example guest), and
#   `cargo test --workspace` (the tests build the guest programs themselves).
# Usage: bash scripts/test.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

step() {
    echo
    echo "==> $*"
}

bash scripts/setup.sh

step "cargo fmt --all -- --check (workspace, test-programs, examples/fetch)"
cargo fmt --all -- --check
(cd test-programs && cargo fmt -- --check)
(cd examples/fetch && cargo fmt -- --check)

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

# The guests are separate workspaces built only for wasm. Their target
# directories are the ones the tests (target/guests) and the demo
# (target/examples) use, so builds are shared.
step "clippy: test-programs (wasm32-wasip2)"
(cd test-programs &&
    CARGO_TARGET_DIR="$root/target/guests" cargo clippy --target wasm32-wasip2 -- -D warnings)

step "clippy: examples/fetch (wasm32-wasip2)"
(cd examples/fetch &&
    CARGO_TARGET_DIR="$root/target/examples" cargo clippy --target wasm32-wasip2 -- -D warnings)

step "clippy: guest/rust (wasm32-wasip1 and wasm32-wasip2)"
(cd guest/rust &&
    cargo fmt -- --check &&
    CARGO_TARGET_DIR="$root/target/rust-guests" cargo clippy --target wasm32-wasip1 --examples -- -D warnings &&
    CARGO_TARGET_DIR="$root/target/rust-guests" cargo clippy --target wasm32-wasip2 --examples -- -D warnings)

step "fuzz smoke: build every target in fuzz/, run each for a few seconds"
bash scripts/fuzz-smoke.sh 5

step "cargo test --workspace"
cargo test --workspace

echo
echo "scripts/test.sh: all checks passed"
