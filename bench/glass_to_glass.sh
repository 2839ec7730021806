#!/usr/bin/env bash
# Glass-to-glass latency of IVS live: RTMP in, LL-HLS out, read by hls.js in headless Chromium.
#
#   bench/glass_to_glass.sh [RUNS] [FRAMES]
#
#   RUNS    measurements, each on a fresh LOW-latency channel (default 3)
#   FRAMES  frames counted per run after 5 s of playback (default 600, i.e. 20 s at 30 fps)
#
# NO_BUILD=1 uses target/release/reelay as it is. REELAY_BIN=path runs another reelay
# binary (for before/after comparisons). Installs nothing: it needs ffmpeg, python3
# with boto3, /usr/bin/chromium and `npm ci` done in tests/browser (playwright-core, hls.js).
#
# bench/g2g_publisher.py paints the wall-clock time into each frame as a block code and
# publishes the frames through ffmpeg (x264 veryfast zerolatency, 1 s GOP) to the channel's
# ingest URL; bench/g2g_reader.mjs plays the channel's playbackUrl with hls.js (low-latency
# mode: parts, blocking reloads), decodes the code of every presented frame and reports
# `display time - painted time` percentiles, with hls.js's own `latency` estimate beside them.
# Publisher and reader run on this machine, so they share one clock. The server is pinned to
# core 0; publisher, encoder and browser are not pinned (Chromium alone on one core stalls).
set -euo pipefail
cd "$(dirname "$0")/.."
REELAY_BIN=${REELAY_BIN:-target/release/reelay}
RUNS=${1:-3}
FRAMES=${2:-600}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p reelay-server
[ -d tests/browser/node_modules/playwright-core ] || { echo "run npm ci in tests/browser first" >&2; exit 1; }
export REELAY_SRT=127.0.0.1:0
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

taskset -c 0 "$REELAY_BIN" serve --http 127.0.0.1:0 --rtmp 127.0.0.1:0 --data-dir "$WORK/reelay" \
  --log-level warn > "$WORK/reelay.out" 2> "$WORK/reelay.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q "^reelay listening" "$WORK/reelay.out" 2>/dev/null && break; sleep 0.1; done
HTTP=$(sed -n 's/^reelay listening on //p' "$WORK/reelay.out")
# Long enough for start-up, the skipped seconds and FRAMES frames at 30 fps, with margin.
SECONDS_LIVE=$((FRAMES / 30 + 30))

echo "runs $RUNS, $FRAMES frames each, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$WORK/results.jsonl"
for run in $(seq "$RUNS"); do
  read -r INGEST PLAYBACK < <(python3 - "$HTTP" "$run" <<'PY'
import sys, boto3
c = boto3.client("ivs", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test")
r = c.create_channel(name=f"g2g-{sys.argv[2]}", latencyMode="LOW")
print(f'rtmp://{r["channel"]["ingestEndpoint"]}/app/{r["streamKey"]["value"]}', r["channel"]["playbackUrl"])
PY
)
  EPOCH=$(python3 -c 'import time; print(int(time.time() * 1000))')
  python3 bench/g2g_publisher.py "$INGEST" "$EPOCH" "$SECONDS_LIVE" &
  PUB=$!
  PIDS+=($PUB)
  # The viewer joins a running stream: once the media playlist lists two segments. (Joining
  # before the first segment exists is another case, see docs/benchmarks/live.md.)
  MEDIA=${PLAYBACK%.m3u8}/source.m3u8
  for _ in $(seq 300); do [ "$(curl -sf "$MEDIA" | grep -c '^#EXTINF')" -ge 2 ] && break; sleep 0.1; done
  out=$(node bench/g2g_reader.mjs --url "$PLAYBACK" --epoch "$EPOCH" --frames "$FRAMES" --skip 5 \
    --timeout $((SECONDS_LIVE - 5)) || true)
  kill "$PUB" 2>/dev/null || true
  wait "$PUB" 2>/dev/null || true
  echo "$out" >> "$WORK/results.jsonl"
  python3 - "$run" "$out" <<'PY'
import json, sys
run, raw = sys.argv[1], sys.argv[2]
try:
    r = json.loads(raw)
except ValueError:
    print(f"run {run}: reader failed: {raw!r}")
    sys.exit(0)
l = r["latency_ms"]
print(f'run {run}: frames={r["frames"]} invalid={r["invalid_frames"]} p50={l["p50"]:.0f}ms p95={l["p95"]:.0f}ms '
      f'p99={l["p99"]:.0f}ms min={l["min"]:.0f} max={l["max"]:.0f} hls.js latency p50={r["hlsjs_latency_s"]["p50"]}s '
      f'errors={[e["details"] for e in r["errors"]]} chromium={r["chromium"]}')
PY
done

python3 - "$WORK/results.jsonl" <<'PY'
import json, statistics, sys
rs = []
for line in open(sys.argv[1]):
    try:
        rs.append(json.loads(line))
    except ValueError:
        pass
rs = [r for r in rs if r.get("frames")]
if not rs:
    sys.exit("no run measured anything")
med = lambda k: statistics.median(r["latency_ms"][k] for r in rs)
hls = [r["hlsjs_latency_s"]["p50"] for r in rs if r["hlsjs_latency_s"]["p50"] is not None]
print(f'median of {len(rs)} runs: p50 {med("p50"):.0f} ms, p95 {med("p95"):.0f} ms, p99 {med("p99"):.0f} ms; '
      f'hls.js latency p50 {statistics.median(hls) if hls else float("nan"):.2f} s (target p50 <= 1500 ms, p95 <= 2000 ms)')
PY
