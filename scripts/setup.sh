#!/usr/bin/env bash
# One-time set-up of a fresh machine for building and testing wasmgate.
# Idempotent: safe to run again (demo.sh, test.sh and .ci/run all call it).
#
# Needs: a Rust toolchain (cargo) installed with rustup. Installs: the two
# WebAssembly targets the guests are built for (wasm32-wasip1, wasm32-wasip2),
# and the rustfmt and clippy components scripts/test.sh uses, if missing.
set -euo pipefail

targets=(wasm32-wasip1 wasm32-wasip2)

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install Rust with rustup first: https://rustup.rs" >&2
    exit 1
fi

if ! command -v rustup >/dev/null 2>&1; then
    echo "setup: rustup not found, so the WebAssembly targets (${targets[*]}) cannot be added automatically." >&2
    echo "setup: skipping; make sure your Rust installation has them, or builds of the guests will fail." >&2
    exit 0
fi

installed=$(rustup target list --installed)
missing=()
for t in "${targets[@]}"; do
    if ! grep -qx "$t" <<<"$installed"; then
        missing+=("$t")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "setup: Rust targets ${targets[*]} already installed"
else
    echo "setup: rustup target add ${missing[*]}"
    rustup target add "${missing[@]}"
fi

components=(rustfmt clippy)
installed=$(rustup component list --installed)
missing=()
for c in "${components[@]}"; do
    if ! grep -q "^$c" <<<"$installed"; then
        missing+=("$c")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: rustup component add ${missing[*]}"
    rustup component add "${missing[@]}"
fi

# Guest toolchains for the guest-library tests: Go from PyPI, clang + wasi-libc from apt,
# TinyGo from ../shared/tinygo (or PATH). Each script is idempotent and fast when
# everything is already there.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/setup-go.sh"
bash "$here/setup-c.sh"
# TinyGo (both wasm targets) for the Go guest library's TinyGo tests.
bash "$here/setup-tinygo.sh"
