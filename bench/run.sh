#!/usr/bin/env bash
# One benchmark in one command: builds the relay and the bench (release), starts
# target/release/familiar-sessions on a loopback port with its caps raised for the run, waits
# for /health, runs one familiar-bench scenario against it, and stops the relay.
#
#   bench/run.sh SCENARIO [familiar-bench flags…]
#   bench/run.sh relay --rate 60000
#   BENCH_PORT=18123 BENCH_NO_BUILD=1 bench/run.sh capacity
#   bench/run.sh fuzz [frames|parser|session] [--inputs N] [--seed S]   (no relay; familiar-fuzz)
#
# Any cap below can be overridden from the environment (e.g. MAX_PARTICIPANTS=8). The relay's
# log goes to target/bench-relay.log. Needs curl. RELAY_BIN runs another relay binary (an older
# build, for before/after figures); BENCH_INDEPENDENT=chat|join runs the independent generator
# (bench/independent, Node + ws) instead of familiar-bench, with the flags given after SCENARIO.
#
# The machine is shared: before starting, the script waits up to BENCH_QUIET_WAIT seconds
# (default 600; 0: don't wait) until at most BENCH_QUIET_PCT percent (default 20) of the CPU is
# busy over 3 s, and says how busy it was. The bench itself reports the cores others used.
# (`nice` does not help here: autogroup scheduling shares the CPU equally between terminal
# sessions whatever their niceness.)
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: bench/run.sh SCENARIO [familiar-bench flags…]" >&2
    exit 2
fi
cd "$(dirname "$0")/.."

if [[ -z "${BENCH_NO_BUILD:-}" ]]; then
    if [[ "$1" == fuzz ]]; then
        cargo build --release -p familiar-fuzz
    else
        cargo build --release -p familiar-sessions -p familiar-bench
    fi
fi

# Percent of all CPUs busy (not idle, not iowait) over 3 s, from /proc/stat.
busy_percent() {
    local -a a b
    read -r -a a </proc/stat
    sleep 3
    read -r -a b </proc/stat
    local total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    local idle=$(((b[4] - a[4]) + (b[5] - a[5])))
    echo $((100 * (total - idle) / (total > 0 ? total : 1)))
}

quiet_pct="${BENCH_QUIET_PCT:-20}"
waited=0
busy=$(busy_percent)
while ((busy > quiet_pct && waited < ${BENCH_QUIET_WAIT:-600})); do
    echo "machine ${busy}% busy; waiting for ≤ ${quiet_pct}% (${waited} s so far)" >&2
    sleep 7
    waited=$((waited + 10))
    busy=$(busy_percent)
done
echo "machine ${busy}% busy before the run" >&2

# `fuzz` needs no relay: the fuzz targets in-process, a million inputs each unless
# `--inputs N` says otherwise (familiar-fuzz --help).
if [[ "$1" == fuzz ]]; then
    shift
    exec target/release/familiar-fuzz "$@"
fi

port="${BENCH_PORT:-18080}"
log="target/bench-relay.log"

# Caps raised for the run: 3,000 sessions (capacity), 21 per session (join-latency spreads 1,000
# guests over 50 sessions), and rate limits far above what one benchmark client sends (a relay
# host sends 550 ICE/s; a chat participant 1/s). Every bench client is 127.0.0.1, and loopback
# gets no exemption from the per-address caps, so they go as high as the relay-wide ones.
export PORT="$port" HOST=127.0.0.1
# shellcheck source=bench/caps.sh
source bench/caps.sh

# caps.sh also raises the open-file limit to the hard one (20,000 here): 18,000 relay sockets fit.

# `chaos` starts, kills and restarts the relay itself (with these caps from the environment).
if [[ "$1" == chaos ]]; then
    exec target/release/familiar-bench "$@" --url "ws://127.0.0.1:$port/api/v1/sessions/ws" \
        --relay-bin "${RELAY_BIN:-target/release/familiar-sessions}"
fi

"${RELAY_BIN:-target/release/familiar-sessions}" >"$log" 2>&1 &
relay=$!
trap 'kill "$relay" 2>/dev/null || true; wait "$relay" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$relay" 2>/dev/null; then
        echo "relay exited at start; see $log" >&2
        exit 1
    fi
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/health" >/dev/null

url="ws://127.0.0.1:$port/api/v1/sessions/ws"
if [[ -n "${BENCH_INDEPENDENT:-}" ]]; then
    shift
    (cd bench/independent && { [[ -d node_modules ]] || npm ci --no-audit --no-fund >&2; } &&
        node loadgen.mjs "$BENCH_INDEPENDENT" --url "$url" "$@")
else
    target/release/familiar-bench "$@" --url "$url" --server-pid "$relay"
fi
