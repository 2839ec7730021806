#!/usr/bin/env bash
# IVS live ingest density: RTMP passthrough publishers to HLS, reelay against nginx's RTMP
# module, in one run on one machine.
#
#   bench/live_vs_nginx_rtmp.sh [LADDER] [RUNS] [DURATION] [WARMUP]
#
#   LADDER    stream counts to try, comma-separated (default 50,100,200,400,600,800)
#   RUNS      runs per (server, count), servers alternating (default 3)
#   DURATION  seconds per run, from the first connection (default 40)
#   WARMUP    seconds before the measured window (default 15; the stagger and the first
#             segments fall inside it)
#
# NO_BUILD=1 uses the release binaries already in target/release. REELAY_BIN=path runs another reelay
# binary (for before/after comparisons). Installs nothing: it needs
# ffmpeg, python3 with boto3, and `nginx libnginx-mod-rtmp` (Debian) on this machine.
#
# Each run starts a fresh server pinned to core 0 (`taskset -c 0`) and `reelay-live-load` pinned
# to core 1. The load tool replays one pre-encoded FLV (1280x720p30 H.264 at ~2.4 Mbps with a 2 s
# GOP, AAC 128 kbps; 10 s, looped with rewritten timestamps) at real time to N RTMP publishers
# and polls every stream's media playlist once a second. A run passes with zero dropped
# segments: every publisher connected and stayed connected, no media-sequence gap, no playlist
# that stopped growing for three target durations, and no publisher batch more than 500 ms late
# (the server not reading its sockets in time). The server's utime + stime and VmRSS are read
# from /proc over the measured window.
#
# Equivalent HLS settings: MPEG-TS segments cut at the first keyframe after 2 s, a short
# playlist (reelay: 3 segments listed and 1 more kept; nginx-rtmp: its configured playlist),
# segments served over HTTP on loopback. reelay's channels are LOW latency (its default), so it
# also produces 0.2 s LL-HLS parts; nginx-rtmp writes its segments to
# tmpfs and serves them with nginx's http module. A count is tried on a server only while the
# previous count passed on it in at least one run.
#
# The servers and the load tool run at nice -10, so that other work on the machine (builds)
# takes less from them; say what else ran in the figures you record. nginx-rtmp keeps its
# segments in tmpfs, outside its RSS: the report adds the size of its HLS directory at the end
# of the run per stream beside its RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
REELAY_BIN=${REELAY_BIN:-target/release/reelay}
LADDER=${1:-50,100,200,400,600,800}
RUNS=${2:-3}
DURATION=${3:-40}
WARMUP=${4:-15}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p reelay-server -p reelay-live-load
NGINX_MODULE=/usr/lib/nginx/modules/ngx_rtmp_module.so
command -v nginx >/dev/null && [ -f "$NGINX_MODULE" ] || {
  echo "nginx with the RTMP module not found: apt-get install nginx libnginx-mod-rtmp" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "needs two cores (server on core 0, load on core 1)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# No SRT listener on its fixed default port (another reelay may hold it).
export REELAY_SRT=127.0.0.1:0
PRIO="nice -n -10"
$PRIO true 2>/dev/null || PRIO=""

# tmpfs for nginx's segments and reelay's metadata, so no server waits on the disk.
WORK=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
SERVER_PID=
trap '[ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
MAX_N=$(tr ',' '\n' <<<"$LADDER" | sort -n | tail -1)

ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=30,noise=alls=12:allf=t" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000" -t 10 -pix_fmt yuv420p \
  -c:v libx264 -preset veryfast -b:v 2400k -maxrate 2400k -bufsize 2400k -g 60 -keyint_min 60 \
  -sc_threshold 0 -c:a aac -b:a 128k -f flv "$WORK/src.flv"

start_reelay() {
  $PRIO taskset -c 0 "$REELAY_BIN" serve --http 127.0.0.1:0 --rtmp 127.0.0.1:0 \
    --data-dir "$WORK/reelay" --log-level warn > "$WORK/reelay.out" 2> "$WORK/reelay.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do grep -q "^reelay listening" "$WORK/reelay.out" 2>/dev/null && break; sleep 0.1; done
  REELAY_HTTP=$(sed -n 's/^reelay listening on //p' "$WORK/reelay.out")
  [ -n "$REELAY_HTTP" ] || { echo "reelay did not start:" >&2; tail -5 "$WORK/reelay.err" >&2; exit 1; }
}

stop_server() {
  [ -z "$SERVER_PID" ] || { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  SERVER_PID=
}

# reelay: MAX_N LOW-latency channels, created once through boto3 (the data dir persists across
# restarts); one target line per channel: ingest URL and media playlist.
REELAY_QUOTA=$((MAX_N + 10))
export REELAY_IVS_QUOTA_CHANNELS=$REELAY_QUOTA
start_reelay
python3 - "$REELAY_HTTP" "$MAX_N" > "$WORK/reelay.channels" <<'PY'
import sys, boto3
c = boto3.client("ivs", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test")
for i in range(int(sys.argv[2])):
    r = c.create_channel(name=f"bench-{i}", latencyMode="LOW")
    ch = r["channel"]
    # The ingest endpoint's port is filled in per run (the RTMP port changes on restart).
    media = ch["playbackUrl"][: -len(".m3u8")] + "/source.m3u8"
    print(r["streamKey"]["value"], media.split("/api/", 1)[1])
PY
stop_server

NGINX_HTTP_PORT=$(free_port)
NGINX_RTMP_PORT=$(free_port)
mkdir -p "$WORK/hls"
cat > "$WORK/nginx.conf" <<EOF
load_module $NGINX_MODULE;
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65536;
error_log $WORK/nginx-error.log warn;
pid $WORK/nginx.pid;
events { worker_connections 16384; }
rtmp {
  server {
    listen 127.0.0.1:$NGINX_RTMP_PORT;
    chunk_size 4096;
    application live {
      live on;
      hls on;
      hls_path $WORK/hls;
      hls_fragment 2s;
      hls_playlist_length 12s;
    }
  }
}
http {
  access_log off;
  server {
    listen 127.0.0.1:$NGINX_HTTP_PORT;
    location /hls/ {
      types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
      root $WORK;
      add_header Cache-Control no-cache;
      log_not_found off;
    }
  }
}
EOF

# Starts one server, writes its N target lines, runs the load, prints the load tool's JSON.
run_one() {  # server n
  local server=$1 n=$2
  if [ "$server" = reelay ]; then
    start_reelay
    local rtmp_port
    rtmp_port=$(sed -n 's/^reelay rtmp listening on rtmp:\/\/127.0.0.1://p' "$WORK/reelay.out")
    head -n "$n" "$WORK/reelay.channels" | while read -r key media; do
      echo "rtmp://127.0.0.1:$rtmp_port/app/$key $REELAY_HTTP/api/$media"
    done > "$WORK/targets"
  else
    rm -rf "$WORK/hls" && mkdir -p "$WORK/hls"
    $PRIO taskset -c 0 nginx -c "$WORK/nginx.conf" -p "$WORK" > "$WORK/nginx.out" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$NGINX_HTTP_PORT/" && break; sleep 0.1; done
    for i in $(seq "$n"); do
      echo "rtmp://127.0.0.1:$NGINX_RTMP_PORT/live/s$i http://127.0.0.1:$NGINX_HTTP_PORT/hls/s$i.m3u8"
    done > "$WORK/targets"
  fi
  local idle_rss out hls_kib=0
  idle_rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
  out=$($PRIO taskset -c 1 target/release/reelay-live-load --flv "$WORK/src.flv" --targets-file "$WORK/targets" \
    --duration "$DURATION" --warmup "$WARMUP" --server-pid "$SERVER_PID") || out=null
  [ "$server" = reelay ] || hls_kib=$(du -sk "$WORK/hls" | cut -f1)
  stop_server
  echo "{\"server\": \"$server\", \"n\": $n, \"idle_rss_kib\": ${idle_rss:-0}, \"hls_dir_kib\": $hls_kib, \"load\": $out}"
}

echo "ladder $LADDER, runs $RUNS, duration ${DURATION}s, warmup ${WARMUP}s, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$WORK/results.jsonl"
declare -A FAILED=()
for n in ${LADDER//,/ }; do
  for run in $(seq "$RUNS"); do
    for server in reelay nginx-rtmp; do
      [ -z "${FAILED[$server]:-}" ] || continue
      line=$(run_one "$server" "$n")
      echo "$line" >> "$WORK/results.jsonl"
      python3 - "$run" "$line" <<'PY'
import json, sys
run, r = sys.argv[1], json.loads(sys.argv[2])
if r["load"] is None:
    print(f'{r["server"]:<10} n={r["n"]:<4} run={run} FAIL (the load tool or the server failed)', flush=True)
    sys.exit(0)
l, s, p = r["load"], r["load"].get("server") or {}, r["load"]["playlists"]
ok = l["errors"] == 0 and p["gaps"] == 0 and p["stalls"] == 0 and l["send_lag_ms"]["late_batches"] == 0
print(f'{r["server"]:<10} n={r["n"]:<4} run={run} {"PASS" if ok else "FAIL"} '
      f'cpu={s.get("cpu_percent", 0):6.1f}% per-stream={s.get("cpu_percent_per_stream", 0):.3f}% '
      f'rss={s.get("rss_kib", 0)/1024:7.1f}MiB (+{(s.get("rss_kib", 0) - r["idle_rss_kib"])/1024/max(1, r["n"]):.2f}MiB/stream'
      f'{", hls dir %.2fMiB/stream" % (r["hls_dir_kib"] / 1024 / r["n"]) if r["hls_dir_kib"] else ""}) '
      f'segments={p["segments_seen"]} gaps={p["gaps"]} stalls={p["stalls"]} errors={l["errors"]} '
      f'lag_max={l["send_lag_ms"]["max"]}ms late={l["send_lag_ms"]["late_batches"]} load_cpu={l["load_cpu_percent"]:.0f}%',
      flush=True)
for e in l["error_samples"][:3]:
    print("    error:", e, flush=True)
PY
    done
  done
  # A server that failed every run at this count is not tried at larger counts.
  for server in reelay nginx-rtmp; do
    python3 - "$server" "$n" "$WORK/results.jsonl" <<'PY' || FAILED[$server]=1
import json, sys
server, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
runs = [json.loads(l) for l in open(path)]
runs = [r for r in runs if r["server"] == server and r["n"] == n]
def ok(r):
    if r["load"] is None or not r["load"].get("server"):
        return False
    l, p = r["load"], r["load"]["playlists"]
    return l["errors"] == 0 and p["gaps"] == 0 and p["stalls"] == 0 and l["send_lag_ms"]["late_batches"] == 0
sys.exit(0 if not runs or any(ok(r) for r in runs) else 1)
PY
  done
done

echo
echo "summary (medians over runs; pass = every run at that count passed)"
python3 - "$WORK/results.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
def ok(r):
    if r["load"] is None or not r["load"].get("server"):
        return False
    l, p = r["load"], r["load"]["playlists"]
    return l["errors"] == 0 and p["gaps"] == 0 and p["stalls"] == 0 and l["send_lag_ms"]["late_batches"] == 0
print(f'{"server":<10} {"n":>5} {"pass":>6} {"cpu %":>7} {"cpu %/stream":>12} {"RSS MiB":>8} {"+MiB/stream":>11} {"hls dir MiB/stream":>18} {"lag max ms":>10}')
best = {}
for key in sorted({(r["server"], r["n"]) for r in runs}, key=lambda k: (k[0], k[1])):
    rs = [r for r in runs if (r["server"], r["n"]) == key]
    passed, total = sum(ok(r) for r in rs), len(rs)
    if passed == total:
        best[key[0]] = max(best.get(key[0], 0), key[1])
    rs = [r for r in rs if r["load"] and r["load"].get("server")]
    if not rs:
        print(f'{key[0]:<10} {key[1]:>5} {passed:>3}/{total:<2} (no measurement)')
        continue
    med = lambda f: statistics.median(f(r) for r in rs)
    print(f'{key[0]:<10} {key[1]:>5} {passed:>3}/{total:<2} {med(lambda r: r["load"]["server"]["cpu_percent"]):>7.1f} '
          f'{med(lambda r: r["load"]["server"]["cpu_percent_per_stream"]):>12.3f} '
          f'{med(lambda r: r["load"]["server"]["rss_kib"]) / 1024:>8.1f} '
          f'{med(lambda r: (r["load"]["server"]["rss_kib"] - r["idle_rss_kib"]) / 1024 / r["n"]):>11.2f} '
          f'{med(lambda r: r["hls_dir_kib"] / 1024 / r["n"]):>18.2f} '
          f'{med(lambda r: r["load"]["send_lag_ms"]["max"]):>10}')
print()
for server in ("reelay", "nginx-rtmp"):
    print(f"{server}: largest count with zero dropped segments in every run: {best.get(server, 0)}")
if best.get("nginx-rtmp"):
    print(f'ratio reelay / nginx-rtmp: {best.get("reelay", 0) / best["nginx-rtmp"]:.2f}')
PY
