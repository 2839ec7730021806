#!/usr/bin/env bash
# Foundation benchmark: the whole request path (SigV4 parse, routing, body read, model
# validation, dispatch, error/response encoding) under concurrent signed load.
#
#   bench/foundation.sh [CONCURRENCY] [DURATION] [RUNS]
#
# Builds release binaries, starts reelay on a free loopback port with a throwaway data dir,
# and runs reelay-load RUNS times per scenario; prints each run's JSON report.
set -euo pipefail
cd "$(dirname "$0")/.."
CONC=${1:-16}
DUR=${2:-10s}
RUNS=${3:-3}
cargo build --release -q -p reelay-server -p reelay-load
DATA=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
target/release/reelay serve --http 127.0.0.1:0 --rtmp 127.0.0.1:0 --data-dir "$DATA" --log-level warn > "$DATA/out" &
PID=$!
for _ in $(seq 100); do grep -q "listening" "$DATA/out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^reelay listening on //p' "$DATA/out")
run() {
  local name=$1; shift
  for i in $(seq "$RUNS"); do
    printf '%s run %s: ' "$name" "$i"
    target/release/reelay-load --endpoint "$URL" --concurrency "$CONC" --duration "$DUR" --warmup 1s --json "$@"
  done
}
# A routed, validated operation: ivs GetChannel on an ARN that does not exist
# (full path: auth parse, route, validate, handler, store lookup, error encoding).
run ivs-GetChannel --service ivs --path /GetChannel --body '{"arn":"arn:aws:ivs:us-east-1:123456789012:channel/AbCdEfGh1234"}'
# The health endpoint (no AWS routing): the HTTP floor of the server.
run health --service ivs --method GET --path /_reelay/health
