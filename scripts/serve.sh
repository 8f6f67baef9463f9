#!/usr/bin/env bash
# Builds the guest app into static/ and runs the relay on http://localhost:8000 with safe
# defaults (no TURN, no secrets). Any variable from `familiar-sessions --help` may be set.
set -euo pipefail
cd "$(dirname "$0")/.."
(cd guest && npm ci --no-audit --no-fund && npm run build)
exec cargo run --release --bin familiar-sessions
