#!/usr/bin/env bash
# A benchmark against a cluster: starts three release relays on loopback as machines m0, m1, m2
# (a static PEERS list, replay routing, one SESSION_SECRET), waits for them, runs one
# familiar-bench scenario against m0, and stops them.
#
#   bench/cluster.sh cluster-join [--joins 500]     # direct vs bridged vs replayed joins
#   bench/cluster.sh relay --rate 20000             # m0's relay figures with clustering on
#
# m0's log goes to target/bench-cluster-m0.log (m1, m2 likewise). Caps as in bench/run.sh.
# BENCH_NO_BUILD=1 skips the build; BENCH_PORT (default 18090) is m0's port, m1 and m2 the next.
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: bench/cluster.sh SCENARIO [familiar-bench flags…]" >&2
    exit 2
fi
cd "$(dirname "$0")/.."

if [[ -z "${BENCH_NO_BUILD:-}" ]]; then
    cargo build --release -p familiar-sessions -p familiar-bench
fi

base="${BENCH_PORT:-18090}"
peers="m0=127.0.0.1:$base,m1=127.0.0.1:$((base + 1)),m2=127.0.0.1:$((base + 2))"
export HOST=127.0.0.1 PEERS="$peers" CLUSTER_ROUTING=replay
export SESSION_SECRET="${SESSION_SECRET:-bench-cluster-secret}"
export JOIN_FAILURES_PER_MINUTE="${JOIN_FAILURES_PER_MINUTE:-100000}"
# shellcheck source=bench/caps.sh
source bench/caps.sh

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
for i in 0 1 2; do
    PORT=$((base + i)) MACHINE_ID="m$i" "${RELAY_BIN:-target/release/familiar-sessions}" \
        >"target/bench-cluster-m$i.log" 2>&1 &
    pids+=($!)
done
for i in 0 1 2; do
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$((base + i))/health" >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -fsS "http://127.0.0.1:$((base + i))/health" >/dev/null
done
# The machines probe each other every second: let every one see the others.
sleep 2

scenario="$1"
shift
extra=()
if [[ "$scenario" == cluster-join ]]; then
    extra=(--machines "$peers")
fi
target/release/familiar-bench "$scenario" "$@" "${extra[@]}" \
    --url "ws://127.0.0.1:$base/api/v1/sessions/ws" --server-pid "${pids[0]}"
