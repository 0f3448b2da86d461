#!/usr/bin/env bash
# Installs TinyGo, used to build the Go guest library's programs for -target=wasip1 and
# -target=wasip2. Idempotent.
#
# Where TinyGo comes from, in order:
#   1. ../shared/tinygo/install.sh beside the repository (CI always has it): TinyGo 0.33
#      for Debian 12 amd64 plus the Go 1.23 it needs, installed into <repo>/target/tinygo;
#   2. a `tinygo` already on PATH (install TinyGo >= 0.33 from
#      https://github.com/tinygo-org/tinygo/releases; it needs a Go <= its newest supported
#      version on PATH too).
# Without either, it says so and exits 0, and the TinyGo tests print "skipped: no TinyGo";
# under CI=true a missing TinyGo is an error (exit 1).
#
# Prints the two `export` lines that put TinyGo on PATH (also written to
# target/tinygo/env.sh, which the tests read).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="$root/../shared/tinygo/install.sh"
dest="$root/target/tinygo"
env_file="$dest/env.sh"

if [ -f "$shared" ]; then
    mkdir -p "$dest"
    # install.sh prints the export lines on stdout and TinyGo's version on stderr.
    bash "$shared" "$dest" >"$env_file.tmp"
    mv "$env_file.tmp" "$env_file"
    cat "$env_file"
    exit 0
fi

if command -v tinygo >/dev/null 2>&1; then
    mkdir -p "$dest"
    tinygoroot=$(tinygo env TINYGOROOT)
    {
        echo "export TINYGOROOT=$tinygoroot"
        echo "export PATH=$(dirname "$(command -v tinygo)"):\$PATH"
    } >"$env_file"
    tinygo version >&2
    cat "$env_file"
    exit 0
fi

if [ "${CI:-}" = "true" ]; then
    echo "setup-tinygo: no TinyGo: neither $shared nor a tinygo on PATH (required under CI=true)" >&2
    exit 1
fi
echo "setup-tinygo: no TinyGo found ($shared missing, no tinygo on PATH); the TinyGo tests will be skipped" >&2
