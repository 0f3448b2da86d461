#!/usr/bin/env bash
# Installs the C toolchain used to build the C guest header's examples and test programs
# (guest/c): clang, lld, wasi-libc and the wasm32 compiler runtime, from Debian's apt
# repositories. Idempotent: does nothing when clang and the wasi sysroot are present.
#
# Needs: a Debian/Ubuntu machine with apt-get (run as root, or sudo must work).
# Prints the clang path and version.
set -euo pipefail

have_sysroot() {
    # Debian's wasi-libc puts the sysroot where clang --target=wasm32-wasi finds it.
    [ -f /usr/include/wasm32-wasi/stdio.h ] || [ -f /usr/share/wasi-sysroot/include/stdio.h ] ||
        [ -f /usr/share/wasi-sysroot/include/wasm32-wasi/stdio.h ]
}

have_rt() {
    ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1
}

if command -v clang >/dev/null 2>&1 && command -v wasm-ld >/dev/null 2>&1 && have_sysroot && have_rt; then
    echo "setup-c: clang and the wasi sysroot already installed"
else
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "setup-c: apt-get not found; install clang, lld, wasi-libc and the wasm32 clang runtime yourself" >&2
        exit 1
    fi
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    echo "setup-c: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q clang lld wasi-libc libclang-rt-dev-wasm32
fi

echo "setup-c: $(command -v clang)"
clang --version | head -n 1
