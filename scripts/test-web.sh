#!/usr/bin/env bash
# The browser test: builds the WebAssembly bundle (scripts/build-web.sh) and drives headless
# Chromium over web/ (web/test/browser-test.mjs), checking that the timeline the page shows,
# from the file input and from a fake microphone playing the same WAV, is the native
# `predict --json`'s (same windows and labels, probabilities within 1e-3). Exits non-zero on
# any difference. On a fresh Debian 12 machine (root) it installs what it needs: the wasm
# route and wasm-bindgen-cli (build-web.sh), chromium and node (apt). docs/web.md has the
# time it takes.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

scripts/build-web.sh

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -q "${missing[@]}"
fi
chromium --version
node --version

cargo build --release -p ser-examples --example predict
node web/test/browser-test.mjs --predict target/release/examples/predict --chromium chromium
echo "scripts/test-web.sh: $(($(date +%s) - start)) s"
