#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the Rust tests (actors, relay over real
# WebSockets, TURN against a loopback stand-in for Cloudflare, the binary's drain and logs),
# the guest app's type check, unit tests, build and size budget, the Dockerfile check, and the
# browser end-to-end suite in Debian's Chromium, firefox-esr and WebKitGTK.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
step "cargo test"
cargo test --workspace

step "guest app: install, unit tests, build, size budget"
(cd guest && npm ci --no-audit --no-fund && npm test && npm run build && npm run check-size)

step "Dockerfile check"
bash scripts/check-dockerfile.sh

step "browser end-to-end"
cargo build --release --bin familiar-sessions
(cd e2e && npm ci --no-audit --no-fund && RELAY_BIN="$PWD/../target/release/familiar-sessions" npm run e2e)
