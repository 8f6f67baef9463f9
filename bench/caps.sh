# The relay settings every benchmark run uses (sourced by bench/run.sh and bench/cluster.sh):
# caps and rate limits raised so the load generator, not a limit, is what is measured, and the
# per-address caps raised because every bench client shares loopback. Each can be overridden
# from the environment.
export METRICS_PORT=0 STUN_URLS=
export MAX_SESSIONS="${MAX_SESSIONS:-10000}"
export MAX_SESSIONS_PER_IP="${MAX_SESSIONS_PER_IP:-$MAX_SESSIONS}"
export MAX_SOCKETS_PER_IP="${MAX_SOCKETS_PER_IP:-100000}"
export MAX_PARTICIPANTS="${MAX_PARTICIPANTS:-64}"
export RATE_CHAT_PER_SEC="${RATE_CHAT_PER_SEC:-1000}" RATE_CHAT_BURST="${RATE_CHAT_BURST:-1000}"
export RATE_SIGNAL_PER_SEC="${RATE_SIGNAL_PER_SEC:-100000}" RATE_SIGNAL_BURST="${RATE_SIGNAL_BURST:-100000}"
export RATE_OTHER_PER_SEC="${RATE_OTHER_PER_SEC:-1000}" RATE_OTHER_BURST="${RATE_OTHER_BURST:-1000}"
export RUST_LOG="${RUST_LOG:-warn}"
ulimit -n "$(ulimit -Hn)"
