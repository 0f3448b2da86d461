#!/usr/bin/env bash
# One-time set-up of a fresh machine for building and testing wasmgate.
# Idempotent: safe to run again (demo.sh, test.sh and .ci/run all call it).
#
# Needs: a Rust toolchain (cargo) installed with rustup. Installs: the two
# WebAssembly targets the guests are built for (wasm32-wasip1, wasm32-wasip2),
# the rustfmt and clippy components scripts/test.sh uses, if missing, and wrk (apt)
# for the bench's serve figure.
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
# wrk, the load generator of the bench's serve figure (S1; crates/bench/src/wrk.rs), from
# Debian's apt repositories. The bench skips S1 without it, but under CI it is an error.
if command -v wrk >/dev/null 2>&1; then
    echo "setup: wrk already installed"
elif command -v apt-get >/dev/null 2>&1; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    echo "setup: apt-get install wrk"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q wrk
else
    echo "setup: apt-get not found; install wrk yourself for the bench's serve figure (S1)" >&2
fi
