#!/usr/bin/env bash
# IVS control-plane throughput, reelay against moto's server, in one run on one machine.
#
#   bench/ivs_vs_moto.sh [CONCURRENCY] [DURATION] [RUNS]
#
# NO_BUILD=1 uses the release binaries already in target/release. BASE_BIN=<path to another reelay
# binary> (e.g. a release build of the previous commit) adds it as a third server, "base", measured
# in the same rounds: before/after figures from one run.
#
# Builds release binaries, starts reelay and `moto_server` on free loopback ports, seeds 50
# channels in each, then drives both with reelay-load at the same concurrency and duration:
# ListChannels (one page of the 50), GetChannel (one ARN), CreateChannel (a new name per
# request). Prints one table row per (operation, server, run) and the median ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
CONC=${1:-8}
DUR=${2:-10s}
RUNS=${3:-3}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p reelay-server -p reelay-load
command -v moto_server >/dev/null || { echo "moto_server not found: pip install 'moto[server]'" >&2; exit 1; }
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# reelay: SQLite in a throwaway data dir; the channel quota is raised so CreateChannel never hits it.
REELAY_IVS_QUOTA_CHANNELS=100000000 target/release/reelay serve --http 127.0.0.1:0 --rtmp 127.0.0.1:0 --srt 127.0.0.1:0 --data-dir "$WORK/reelay" \
  --log-level warn > "$WORK/reelay.out" 2> "$WORK/reelay.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q "listening" "$WORK/reelay.out" 2>/dev/null && break; sleep 0.1; done
REELAY=$(sed -n 's/^reelay listening on //p' "$WORK/reelay.out")
SERVERS="reelay moto"
if [ -n "${BASE_BIN:-}" ]; then
  REELAY_IVS_QUOTA_CHANNELS=100000000 "$BASE_BIN" serve --http 127.0.0.1:0 --rtmp 127.0.0.1:0 --srt 127.0.0.1:0 --data-dir "$WORK/base" \
    --log-level warn > "$WORK/base.out" 2> "$WORK/base.err" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q "listening" "$WORK/base.out" 2>/dev/null && break; sleep 0.1; done
  BASE=$(sed -n 's/^reelay listening on //p' "$WORK/base.out")
  SERVERS="reelay base moto"
fi

MOTO_PORT=$(free_port)
moto_server -H 127.0.0.1 -p "$MOTO_PORT" > "$WORK/moto.out" 2>&1 &
PIDS+=($!)
MOTO="http://127.0.0.1:$MOTO_PORT"
for _ in $(seq 100); do curl -s -o /dev/null "$MOTO/moto-api/" && break; sleep 0.1; done

# Seed 50 channels per server and print one ARN (boto3, outside the measurement).
seed() {
  python3 - "$1" <<'PY'
import sys, boto3
c = boto3.client("ivs", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test")
arns = [c.create_channel(name=f"seed-{i}")["channel"]["arn"] for i in range(50)]
print(arns[0])
PY
}
REELAY_ARN=$(seed "$REELAY")
MOTO_ARN=$(seed "$MOTO")
[ -z "${BASE:-}" ] || BASE_ARN=$(seed "$BASE")

load() {  # server-name url op body
  target/release/reelay-load --endpoint "$2" --service ivs --path "/$3" --body "$4" \
    --concurrency "$CONC" --duration "$DUR" --warmup 1s --json
}
report() {  # op server run json
  python3 - "$@" <<'PY'
import json, sys
op, server, run, raw = sys.argv[1:5]
r = json.loads(raw)
print(f"{op:<14} {server:<7} {run:>3} {r['requests_per_sec']:>10.1f} {r['latency_us']['p50']/1000:>8.2f} "
      f"{r['latency_us']['p99']/1000:>8.2f} {r['ok']:>9} {r['requests'] - r['ok']:>7}")
PY
}

echo "concurrency $CONC, duration $DUR, runs $RUNS, $(nproc) cores"
printf '%-14s %-7s %3s %10s %8s %8s %9s %7s\n' operation server run "req/s" "p50 ms" "p99 ms" "2xx" "other"
: > "$WORK/results"
for op in ListChannels GetChannel CreateChannel; do
  for run in $(seq "$RUNS"); do
    for server in $SERVERS; do
      case $server in
        reelay) url=$REELAY; arn=$REELAY_ARN ;;
        base) url=$BASE; arn=$BASE_ARN ;;
        moto) url=$MOTO; arn=$MOTO_ARN ;;
      esac
      case $op in
        ListChannels) body='{}' ;;
        GetChannel) body="{\"arn\":\"$arn\"}" ;;
        CreateChannel) body="{\"name\":\"bench-$server-$run-{n}\"}" ;;
      esac
      out=$(load "$server" "$url" "$op" "$body")
      echo "$op $server $out" >> "$WORK/results"
      report "$op" "$server" "$run" "$out"
    done
  done
done

python3 - "$WORK/results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    op, server, raw = line.split(" ", 2)
    rows.setdefault((op, server), []).append(json.loads(raw))
print()
print(f"{'operation':<14} {'server':<7} {'req/s':>10} {'x moto':>7} {'p50 ms':>8} {'p99 ms':>8}  (medians)")
for op in ("ListChannels", "GetChannel", "CreateChannel"):
    mr = statistics.median(x["requests_per_sec"] for x in rows[(op, "moto")])
    for server in ("reelay", "base", "moto"):
        if (op, server) not in rows:
            continue
        r = rows[(op, server)]
        rr = statistics.median(x["requests_per_sec"] for x in r)
        p50 = statistics.median(x["latency_us"]["p50"] for x in r) / 1000
        p99 = statistics.median(x["latency_us"]["p99"] for x in r) / 1000
        print(f"{op:<14} {server:<7} {rr:>10.1f} {rr / mr if mr else float('inf'):>6.1f}x {p50:>8.2f} {p99:>8.2f}")
PY
