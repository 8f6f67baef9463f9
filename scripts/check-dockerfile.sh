#!/usr/bin/env bash
# docker build cannot run on our CI machines, so check what can be checked: every path the
# Dockerfile copies from the repository exists, and it builds with the commands the README uses.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
while read -r src; do
  for path in $src; do
    if [ ! -e "$path" ]; then
      echo "Dockerfile copies missing path: $path"
      fail=1
    fi
  done
done < <(grep -E '^COPY ' Dockerfile | grep -v -- '--from=' | sed -E 's/^COPY +//; s/ +[^ ]+$//')
for cmd in "npm ci" "npm run build" "cargo build --release --bin familiar-sessions"; do
  grep -q "$cmd" Dockerfile || { echo "Dockerfile does not run: $cmd"; fail=1; }
  grep -rq "$cmd" scripts/serve.sh scripts/test.sh || { echo "README scripts do not run: $cmd"; fail=1; }
done
grep -q '^USER ' Dockerfile || { echo "Dockerfile runs as root"; fail=1; }
grep -q 'internal_port = 8000' fly.toml || { echo "fly.toml internal_port is not 8000"; fail=1; }
[ "$fail" = 0 ] && echo "Dockerfile: every copied path exists; build commands match the README"
exit "$fail"
