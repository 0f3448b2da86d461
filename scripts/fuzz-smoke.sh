#!/usr/bin/env bash
# Builds every fuzz target in fuzz/ with libFuzzer coverage instrumentation on the
# stable toolchain (no cargo-fuzz, no nightly: docs/fuzzing.md says why) and runs each
# one briefly from its seeds, so CI notices when a target stops building or finds
# something at once.
# Usage: bash scripts/fuzz-smoke.sh [SECONDS_PER_TARGET]   (default 5)
#        FUZZ_BUILD_ONLY=1 bash scripts/fuzz-smoke.sh       (build, print the binaries' folder)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root/fuzz"

seconds=${1:-5}
targets=(rule_parse request_target address config abi)
host=$(rustc -vV | sed -n 's/^host: //p')

# What cargo-fuzz passes, minus the sanitizer (-Z only): sancov feeds libFuzzer's
# coverage and comparison tracing; `--cfg fuzzing` as cargo-fuzz sets it. With an
# explicit --target, RUSTFLAGS skip build scripts and proc macros.
export RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
--cfg fuzzing"
export CARGO_TARGET_DIR="$root/target/fuzz"

cargo fmt --check
echo "==> building fuzz targets (${targets[*]})"
start=$(date +%s)
cargo build --release --locked --target "$host" --bins
echo "built in $(($(date +%s) - start)) s"
bin="$CARGO_TARGET_DIR/$host/release"
if [[ -n "${FUZZ_BUILD_ONLY:-}" ]]; then
    echo "$bin"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in "${targets[@]}"; do
    echo "==> fuzz $t for ${seconds}s"
    mkdir -p "$work/$t"
    # New corpus entries go to the scratch folder; the committed seeds stay as they are.
    "$bin/$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
        -artifact_prefix="$work/" -print_final_stats=1 "$work/$t" "seeds/$t" \
        2>"$work/$t.log" || {
        tail -40 "$work/$t.log"
        echo "fuzz target $t failed; see docs/fuzzing.md to reproduce" >&2
        exit 1
    }
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$t.log" | tr '\n' ' '
    echo
done
echo "fuzz smoke: all ${#targets[@]} targets built and ran"
