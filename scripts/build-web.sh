#!/usr/bin/env bash
# Builds the web page's WebAssembly bundle, web/pkg/ (ser_wasm_bg.wasm and its JavaScript
# glue), from crates/ser-wasm, on a Debian 12 machine. Run as root on a fresh machine: it
# installs what it needs and skips what is already there.
#
#   scripts/build-web.sh            # then: python3 -m http.server -d web 8000 (docs/web.md)
#
# The route (../shared/wasm/README.md): rustup's toolchain here has no wasm32 standard
# library, so Debian's own Rust 1.96 (package rustc-web) builds std for
# wasm32-unknown-unknown from its source (rust-web-src) with cargo's -Zbuild-std
# (RUSTC_BOOTSTRAP=1 unlocks -Z on that stable compiler), linking with rust-lld
# (rust-web-llvm). The rustup toolchain stays the default for everything else.
#  1. apt: rustc-web cargo-web rust-web-src rust-web-llvm, and lld-22 (rust-lld links to
#     it, undeclared) (once per machine, ~2 min).
#  2. wasm-bindgen-cli at the version of the wasm-bindgen crate in Cargo.lock (the two must
#     match), built by rustup's cargo into ~/.cargo/bin (once, ~5 min on 2 cores).
#  3. cargo build of ser-wasm for wasm32 into target/wasm (its own directory, so the native
#     builds are not invalidated): ser-models without `parallel` (no rayon), simd128 on
#     (every current browser has it), getrandom's wasm_js backend (candle pulls getrandom;
#     inference draws no random numbers). The first build compiles std too (~10 min on
#     2 cores), later ones only what changed.
#  4. wasm-bindgen --target web into web/pkg.
set -euo pipefail
cd "$(dirname "$0")/.."

# rust-web-llvm's /usr/bin/rust-lld links to lld-22, a package it does not depend on.
if ! [ -e /usr/lib/rustlib/src/rust/library/std/Cargo.toml ] || ! [ -x /usr/bin/cargo ] ||
    ! [ -e "$(readlink -f /usr/bin/rust-lld)" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -q rustc-web cargo-web rust-web-src rust-web-llvm lld-22
fi
/usr/bin/rustc --version

version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ -z "$version" ]; then
    echo "no wasm-bindgen in Cargo.lock" >&2
    exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $version" ]; then
    # --locked first; without it when the registry lacks a locked dependency (as one
    # mirror lacked webpki-roots 1.0.11): the tool's version is what must match.
    cargo install --locked wasm-bindgen-cli --version "=$version" ||
        cargo install wasm-bindgen-cli --version "=$version"
fi

PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
    RUSTFLAGS='-C target-feature=+simd128 --cfg getrandom_backend="wasm_js"' \
    /usr/bin/cargo build --release -p ser-wasm --target wasm32-unknown-unknown \
    -Zbuild-std=std,panic_abort --target-dir target/wasm

wasm-bindgen --target web --out-dir web/pkg --no-typescript \
    target/wasm/wasm32-unknown-unknown/release/ser_wasm.wasm
ls -l web/pkg
