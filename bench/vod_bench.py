#!/usr/bin/env python3
"""MediaPackage VOD packaging benchmarks (issue #5), side by side in one run on one machine.

    python3 bench/vod_bench.py [--minutes 60] [--runs 3] [--packager PATH] [--skip-nginx]
    python3 bench/vod_bench.py --only cold [--minutes 60] [--cold-runs 5]

    REELAY_BIN=path      use this reelay binary instead of building target/release/reelay
    BASE_BIN=path        also measure the cold first manifests of this binary (A/B in the same run)
    BENCH_CACHE=dir      where generated sources are kept between runs (default target/bench-media)
    BENCH_TMP=dir        where throwaway data dirs go (default: the system temp dir)

Needs ffmpeg, curl, the npm package `shaka-packager` (its binary is called directly, because
the npm wrapper drops the exit status: `npm install --prefix target/bench-tools shaka-packager`,
or pass --packager), and for (c) nginx and wrk from Debian (`apt-get install nginx wrk`).

(a) Time to produce every segment of an N-minute, 3-rendition H.264/AAC source for HLS-TS,
    CMAF (HLS over fMP4) and DASH: reelay (create the asset, wait until every endpoint is
    PLAYABLE, then GET every manifest and every segment once with `reelay-load fetch`: 4
    keep-alive connections, bodies counted and dropped, the byte count checked against the sum
    of Content-Lengths; `--client curl` uses curl --parallel as the first recorded figures did)
    versus shaka-packager packaging the same source files into the same three outputs (one run
    per output, as each run writes one presentation). Both read the same bytes from the same
    disk. reelay's CPU seconds per format are read from /proc around each format's fetch; with
    BASE_BIN the base binary runs the same (a) in each round.
(b) Warm manifest requests/s and p50/p99 (the repo's load tool on the HLS multivariant and
    media playlists and the MPD), and the first-manifest latency of a cold asset: reelay is
    restarted on the same data dir, so the index is read back from the store, not re-parsed.
    Cold (`--only cold` runs this alone, without ingesting more than once): each sample stops
    reelay, starts it on the same data dir, waits for its ready line and times the first GET of
    one manifest (the MPD, the HLS multivariant playlist, an HLS media playlist: one restart
    each), alternating with BASE_BIN when given. Each binary has its own data dir with an asset
    it ingested itself (releases may differ in store schema and index encoding). Nothing else
    is dropped: the index file is warm in the page cache, as after any restart of a running
    machine.
(c) Clear fMP4 segment throughput: wrk GETs of reelay's CMAF segment URLs versus nginx serving
    shaka-packager's pre-packaged CMAF segments of the same sizes, same wrk settings.

Prints a table of medians and ratios; record it in docs/benchmarks.md.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RENDITIONS = [("360p", 640, 360, "700k"), ("540p", 960, 540, "1500k"), ("720p", 1280, 720, "3000k")]
BUCKET = "bench"
ROLE = "arn:aws:iam::000000000000:role/bench"


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def sources(minutes, cache):
    """Three renditions, 30 fps, 2 s GOP, AAC; a 60 s clip looped (stream copy) to `minutes`."""
    os.makedirs(cache, exist_ok=True)
    out = {}
    for name, w, h, rate in RENDITIONS:
        clip = os.path.join(cache, f"clip-{name}.mp4")
        if not os.path.exists(clip):
            run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate=30:duration=60",
                 "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=60",
                 "-c:v", "libx264", "-preset", "ultrafast", "-b:v", rate, "-g", "60", "-keyint_min", "60",
                 "-sc_threshold", "0", "-c:a", "aac", "-b:a", "128k", "-shortest", clip + ".tmp.mp4"])
            os.rename(clip + ".tmp.mp4", clip)
        full = os.path.join(cache, f"{name}-{minutes}m.mp4")
        if not os.path.exists(full):
            run(["ffmpeg", "-v", "error", "-y", "-stream_loop", str(minutes - 1), "-i", clip, "-c", "copy",
                 full + ".tmp.mp4"])
            os.rename(full + ".tmp.mp4", full)
        out[name] = full
    return out


class Server:
    def __init__(self, binary, data):
        self.proc = subprocess.Popen([binary, "serve", "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0", "--srt", "127.0.0.1:0",
                                      "--data-dir", data, "--log-level", "warn"], stdout=subprocess.PIPE, text=True)
        line = ""
        while not line.startswith("reelay listening on "):
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError("reelay exited before its ready line")
        self.url = line.split("reelay listening on ", 1)[1].strip()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def clients(url):
    import boto3
    import botocore.config
    kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test",
              config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    return boto3.client("s3", **kw), boto3.client("mediapackage-vod", **kw)


def get(url):
    with urllib.request.urlopen(url) as r:
        return r.read()


def hls_urls(master_url):
    """The multivariant playlist, every media playlist it names and every segment they name."""
    urls = [master_url]
    base = master_url.rsplit("/", 1)[0]
    master = get(master_url).decode()
    media = [l for l in master.splitlines() if l and not l.startswith("#")]
    media += re.findall(r'URI="([^"]+)"', master)
    for m in dict.fromkeys(media):
        murl = f"{base}/{m}"
        urls.append(murl)
        mbase = murl.rsplit("/", 1)[0]
        text = get(murl).decode()
        urls += [f"{mbase}/{u}" for u in re.findall(r'#EXT-X-MAP:URI="([^"]+)"', text)]
        urls += [f"{mbase}/{l}" for l in text.splitlines() if l and not l.startswith("#")]
    return list(dict.fromkeys(urls))


def dash_urls(mpd_url):
    """The MPD and every init and media segment of a SegmentTemplate + SegmentTimeline MPD."""
    ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}
    base = mpd_url.rsplit("/", 1)[0]
    root = ET.fromstring(get(mpd_url))
    urls = [mpd_url]
    for aset in root.iter("{urn:mpeg:dash:schema:mpd:2011}AdaptationSet"):
        tmpl_set = aset.find("d:SegmentTemplate", ns)
        for rep in aset.findall("d:Representation", ns):
            tmpl = rep.find("d:SegmentTemplate", ns)
            tmpl = tmpl if tmpl is not None else tmpl_set
            rid = rep.get("id")
            number = int(tmpl.get("startNumber", "1"))
            sub = lambda s, n, t: (s.replace("$RepresentationID$", rid).replace("$Number$", str(n))
                                   .replace("$Time$", str(t)).replace("$Bandwidth$", rep.get("bandwidth", "")))
            if tmpl.get("initialization"):
                urls.append(f"{base}/{sub(tmpl.get('initialization'), 0, 0)}")
            t = 0
            for s in tmpl.find("d:SegmentTimeline", ns).findall("d:S", ns):
                t = int(s.get("t", t))
                for _ in range(int(s.get("r", "0")) + 1):
                    urls.append(f"{base}/{sub(tmpl.get('media'), number, t)}")
                    number += 1
                    t += int(s.get("d"))
    return urls


def fetch_all(urls, parallel=4):
    """GET every URL with curl (parallel transfers in one process), bytes to /dev/null."""
    with tempfile.NamedTemporaryFile("w", suffix=".curl", delete=False) as f:
        for u in urls:
            f.write(f'url = "{u}"\noutput = "/dev/null"\n')
        cfg = f.name
    try:
        out = run(["curl", "-sS", "--fail", "--parallel", "--parallel-max", str(parallel), "-K", cfg,
                   "-w", "%{size_download}\n"], capture_output=True, text=True).stdout
        return sum(int(x) for x in out.split())
    finally:
        os.unlink(cfg)


def fetch_load(load_tool, base_url, urls, parallel=4):
    """GET every URL once with `reelay-load fetch` (N keep-alive connections, bodies counted and
    dropped); fails unless every answer is 2xx with exactly its Content-Length. Returns bytes."""
    with tempfile.NamedTemporaryFile("w", suffix=".urls", delete=False) as f:
        f.write("\n".join(urls) + "\n")
        lst = f.name
    try:
        p = subprocess.run([load_tool, "fetch", "--endpoint", base_url, "--urls", lst, "--concurrency",
                            str(parallel), "--json"], capture_output=True, text=True)
        r = json.loads(p.stdout.strip().splitlines()[-1])
        if p.returncode != 0 or r["bytes"] != r["content_length_sum"]:
            raise RuntimeError(f"incomplete fetch: {r}")
        return r["bytes"]
    finally:
        os.unlink(lst)


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (/proc/<pid>/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fmt_cpu(per_format):
    """`ts 1.20 s wall / 1.10 s CPU, ...` from {format: (fetch wall, server CPU)}."""
    return "fetch wall / server CPU " + ", ".join(f"{k} {w:.2f} / {c:.2f} s" for k, (w, c) in per_format.items())


def med_pair(pairs):
    return med([w for w, _ in pairs]), med([c for _, c in pairs])


def package_configs(c):
    c.create_packaging_group(Id="g")
    c.create_packaging_configuration(Id="ts", PackagingGroupId="g", HlsPackage={
        "SegmentDurationSeconds": 6, "HlsManifests": [{"ManifestName": "index"}]})
    c.create_packaging_configuration(Id="cmaf", PackagingGroupId="g", CmafPackage={
        "SegmentDurationSeconds": 6, "HlsManifests": [{"ManifestName": "index"}]})
    c.create_packaging_configuration(Id="dash", PackagingGroupId="g", DashPackage={
        "SegmentDurationSeconds": 6, "SegmentTemplateFormat": "NUMBER_WITH_TIMELINE",
        "DashManifests": [{"ManifestName": "index"}]})


def reelay_run(binary, srcs, tmp, keep_data=None, client="load", load_tool=None):
    """(a) for reelay: returns (seconds, ingest seconds, bytes, GETs, {config: manifest url}, data dir,
    server, {format: server CPU seconds}). `client` is "load" (`reelay-load fetch`: 4 keep-alive
    connections, bodies dropped) or "curl" (the first recorded figures: curl --parallel, 4 at a time)."""
    data = keep_data or tempfile.mkdtemp(dir=tmp, prefix="reelay-")
    srv = Server(binary, data)
    mpv = upload_sources(srv.url, srcs)
    t0 = time.perf_counter()
    urls = create_and_wait(mpv, "a")
    t_ingest = time.perf_counter() - t0
    # One format after the other, so the server's CPU time can be split by format; `cpu` holds
    # (fetch wall seconds, server CPU seconds) per format.
    nbytes, ngets, cpu = 0, 0, {}
    for fmt, lister in (("ts", hls_urls), ("cmaf", hls_urls), ("dash", dash_urls)):
        lst = lister(urls[fmt])
        c0, w0 = cpu_seconds(srv.proc.pid), time.perf_counter()
        nbytes += fetch_load(load_tool, srv.url, lst) if client == "load" else fetch_all(lst)
        cpu[fmt] = (time.perf_counter() - w0, cpu_seconds(srv.proc.pid) - c0)
        ngets += len(lst)
    total = time.perf_counter() - t0
    return total, t_ingest, nbytes, ngets, urls, data, srv, cpu


def upload_sources(url, srcs):
    """Uploads the renditions and a .smil listing them, creates the packaging group and
    configurations; returns the MediaPackage VOD client."""
    s3, mpv = clients(url)
    s3.create_bucket(Bucket=BUCKET)
    smil = "<smil><body><switch>" + "".join(f'<video src="{n}.mp4"/>' for n in srcs) + "</switch></body></smil>"
    for n, path in srcs.items():
        s3.upload_file(path, BUCKET, f"src/{n}.mp4")
    s3.put_object(Bucket=BUCKET, Key="src/all.smil", Body=smil.encode())
    package_configs(mpv)
    return mpv


def create_and_wait(mpv, asset_id):
    """Creates an asset of the uploaded .smil and waits until every endpoint is PLAYABLE."""
    mpv.create_asset(Id=asset_id, PackagingGroupId="g", SourceArn=f"arn:aws:s3:::{BUCKET}/src/all.smil",
                     SourceRoleArn=ROLE)
    while True:
        a = mpv.describe_asset(Id=asset_id)
        st = {e["Status"] for e in a["EgressEndpoints"]}
        if st and not st & {"QUEUED", "PROCESSING"}:
            break
        time.sleep(0.02)
    if st != {"PLAYABLE"}:
        raise RuntimeError(f"asset did not become PLAYABLE: {a['EgressEndpoints']}")
    return {e["PackagingConfigurationId"]: e["Url"] for e in a["EgressEndpoints"]}


def cold_targets(urls):
    """The manifests timed cold: the MPD, the HLS-TS multivariant playlist and its first media playlist."""
    master = urls["ts"]
    first_media = next(l for l in get(master).decode().splitlines() if l and not l.startswith("#"))
    return {"MPD": urls["dash"], "HLS multivariant": master,
            "HLS media playlist": master.rsplit("/", 1)[0] + "/" + first_media}


def cold_prepare(binary, srcs, tmp):
    """A data dir of `binary`'s own (releases may differ in store schema and index encoding)
    holding the sources and an asset it ingested; returns it with the manifests to time."""
    data = tempfile.mkdtemp(dir=tmp, prefix="reelay-cold-")
    srv = Server(binary, data)
    try:
        mpv = upload_sources(srv.url, srcs)
        return data, cold_targets(create_and_wait(mpv, "cold"))
    finally:
        srv.stop()


def cpu_ns(pid):
    """CPU time of every thread of `pid` so far, in ns (schedstat: precise, unlike /proc/<pid>/stat)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended meanwhile
    return total


def cold_first_get(binary, data, url):
    """Starts `binary` on `data`, times the first GET of `url`, stops it: (wall ms, server CPU ms).
    The CPU time (all threads, around the request) is what the request costs whatever else runs
    on the machine; the wall time is what a client waits."""
    srv = Server(binary, data)
    try:
        url = srv.url + "/mediapackage-vod/" + url.split("/mediapackage-vod/", 1)[1]
        c = cpu_ns(srv.proc.pid)
        t = time.perf_counter()
        get(url)
        wall = (time.perf_counter() - t) * 1000
        return wall, (cpu_ns(srv.proc.pid) - c) / 1e6
    finally:
        srv.stop()


def cold_bench(binaries, prepared, runs, minutes):
    """(b) cold: per binary and manifest, `runs` restarts, alternating binaries in each round.
    `prepared` maps each binary's label to its data dir and the manifest URLs to time."""
    kinds = list(next(iter(prepared.values()))[1])
    times = {(label, kind): [] for label, _ in binaries for kind in kinds}
    for _ in range(runs):
        for label, binary in binaries:
            data, targets = prepared[label]
            for kind, url in targets.items():
                times[(label, kind)].append(cold_first_get(binary, data, url))
    for kind in kinds:
        parts = []
        for label, _ in binaries:
            walls = [w for w, _ in times[(label, kind)]]
            cpus = [c for _, c in times[(label, kind)]]
            parts.append(f"{label} median {med(walls):.1f} ms ({', '.join(f'{x:.1f}' for x in walls)}), "
                         f"server CPU median {med(cpus):.1f} ms")
        ratio = ""
        if len(binaries) == 2:
            (a, ac), (b, bc) = ((med([w for w, _ in times[(label, kind)]]),
                                 med([c for _, c in times[(label, kind)]])) for label, _ in binaries)
            ratio = f"; ratio base/reelay {b / a:.2f}x wall, {bc / ac:.2f}x CPU"
        print(f"(b) cold first {kind} of a {minutes}-min asset after restart: {'; '.join(parts)}{ratio}", flush=True)


def shaka_run(packager, srcs, tmp):
    """(a) for shaka-packager: three runs (HLS-TS, CMAF-HLS, DASH), summed."""
    out = tempfile.mkdtemp(dir=tmp, prefix="shaka-")
    first = next(iter(srcs.values()))

    def streams(fmt, ext):
        s = [f"in={first},stream=audio,segment_template={out}/{fmt}/audio_$Number$.{ext},"
             f"playlist_name=audio.m3u8,hls_group_id=audio,hls_name=audio"]
        for n, path in srcs.items():
            s.append(f"in={path},stream=video,segment_template={out}/{fmt}/{n}_$Number$.{ext},"
                     f"playlist_name={n}.m3u8")
        if ext == "m4s":
            s = [x.replace(f",segment_template={out}/{fmt}/{n}_", f",init_segment={out}/{fmt}/{n}_init.mp4"
                           f",segment_template={out}/{fmt}/{n}_") for x, n in zip(s, ["audio", *srcs])]
        return s

    t0 = time.perf_counter()
    for fmt, ext, extra in (("ts", "ts", ["--hls_master_playlist_output", f"{out}/ts/index.m3u8"]),
                            ("cmaf", "m4s", ["--hls_master_playlist_output", f"{out}/cmaf/index.m3u8"]),
                            ("dash", "m4s", ["--mpd_output", f"{out}/dash/index.mpd",
                                             "--generate_static_live_mpd"])):
        os.makedirs(f"{out}/{fmt}", exist_ok=True)
        run([packager, *streams(fmt, ext), "--segment_duration", "6", *extra, "--quiet"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    secs = time.perf_counter() - t0
    nbytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    return secs, nbytes, out


def load(binary_dir, url, seconds):
    from urllib.parse import urlsplit
    u = urlsplit(url)
    p = run([os.path.join(binary_dir, "reelay-load"), "--endpoint", f"{u.scheme}://{u.netloc}",
             "--service", "mediapackage-vod", "--method", "GET", "--path", u.path, "--concurrency", "4",
             "--duration", f"{seconds}s", "--warmup", "1s", "--json"], capture_output=True, text=True)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    if r["ok"] != r["requests"]:
        raise RuntimeError(f"non-2xx answers while loading {url}: {r['non_2xx']} {r['last_error']}")
    return {"rps": r["requests_per_sec"], "p50_ms": r["latency_us"]["p50"] / 1000,
            "p99_ms": r["latency_us"]["p99"] / 1000}


def wrk(urls_file, host, seconds):
    script = os.path.join(os.path.dirname(urls_file), "paths.lua")
    with open(script, "w") as f:
        f.write('local paths = {}\nfor l in io.lines("%s") do paths[#paths+1] = l end\n'
                'math.randomseed(7)\nrequest = function() return wrk.format("GET", '
                'paths[math.random(#paths)]) end\n' % urls_file)
    out = run(["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", script, host], capture_output=True, text=True).stdout
    m = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    scale = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9}
    return float(m.group(1)) * scale[m.group(2)] / 1e6


def nginx_serve(root, tmp):
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 2; daemon off; pid {tmp}/nginx.pid; error_log {tmp}/nginx.err;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; types {{ video/mp4 m4s; }}
  server {{ listen 127.0.0.1:0; root {root}; }} }}
""")
    # nginx cannot listen on port 0 and report it: pick a free port first.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    text = open(conf).read().replace("listen 127.0.0.1:0", f"listen 127.0.0.1:{port}")
    open(conf, "w").write(text)
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", tmp])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port}"


def med(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--packager", default=os.path.join(ROOT, "target/bench-tools/node_modules/shaka-packager/bin/"
                                                        "packager-linux-x64"))
    ap.add_argument("--skip-nginx", action="store_true")
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--client", choices=["load", "curl"], default="load",
                    help="(a) client: reelay-load fetch (default) or curl --parallel (the first recorded figures)")
    ap.add_argument("--only", choices=["all", "cold"], default="all",
                    help="cold: only the cold first manifests of (b), one ingest per binary")
    ap.add_argument("--cold-runs", type=int, default=0, help="restarts per binary and manifest (default --runs)")
    args = ap.parse_args()
    binary = os.environ.get("REELAY_BIN")
    if not binary:
        run(["cargo", "build", "--release", "-q", "-p", "reelay-server", "-p", "reelay-load"], cwd=ROOT)
        binary = os.path.join(ROOT, "target/release/reelay")
    bindir = os.path.dirname(binary)
    cache = os.environ.get("BENCH_CACHE", os.path.join(ROOT, "target/bench-media"))
    srcs = sources(args.minutes, cache)
    src_bytes = sum(os.path.getsize(p) for p in srcs.values())
    print(f"source: {args.minutes} min x {len(srcs)} renditions, {src_bytes / 1e6:.0f} MB", flush=True)
    base = os.environ.get("BASE_BIN")
    binaries = [("reelay", binary)] + ([("base", base)] if base else [])
    if args.only == "cold":
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
            prepared = {label: cold_prepare(b, srcs, tmp) for label, b in binaries}
            cold_bench(binaries, prepared, args.cold_runs or args.runs, args.minutes)
        return 0

    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        r_total, r_ingest, s_total = [], [], []
        b_total, r_cpu, b_cpu = [], {}, {}
        load_tool = os.path.join(bindir, "reelay-load")
        last = None
        for i in range(args.runs):
            if base:
                # The same (a) with the base binary first, in the same run (A/B).
                total, ingest, nbytes, nurls, _, bdata, bsrv, cpu = reelay_run(
                    base, srcs, tmp, client=args.client, load_tool=load_tool)
                bsrv.stop()
                shutil.rmtree(bdata, ignore_errors=True)
                b_total.append(total)
                for k, v in cpu.items():
                    b_cpu.setdefault(k, []).append(v)
                print(f"run {i + 1}: base {total:.2f} s (ingest {ingest:.2f} s, {nurls} GETs, {nbytes / 1e6:.0f} MB, "
                      f"{fmt_cpu(cpu)})", flush=True)
            total, ingest, nbytes, nurls, urls, data, srv, cpu = reelay_run(
                binary, srcs, tmp, client=args.client, load_tool=load_tool)
            r_total.append(total)
            r_ingest.append(ingest)
            for k, v in cpu.items():
                r_cpu.setdefault(k, []).append(v)
            print(f"run {i + 1}: reelay {total:.2f} s (ingest {ingest:.2f} s, {nurls} GETs, {nbytes / 1e6:.0f} MB, "
                  f"{fmt_cpu(cpu)})", flush=True)
            if last:
                last[1].stop()
                shutil.rmtree(last[0], ignore_errors=True)
            last = (data, srv, urls)
            secs, sbytes, sout = shaka_run(args.packager, srcs, tmp)
            s_total.append(secs)
            print(f"run {i + 1}: shaka-packager {secs:.2f} s ({sbytes / 1e6:.0f} MB written)", flush=True)
            if i + 1 < args.runs:
                shutil.rmtree(sout, ignore_errors=True)
        print(f"(a) all segments HLS-TS+CMAF+DASH ({args.client} client): reelay {med(r_total):.2f} s "
              f"(ingest {med(r_ingest):.2f} s; {fmt_cpu({k: med_pair(v) for k, v in r_cpu.items()})}), "
              f"shaka-packager {med(s_total):.2f} s, ratio {med(s_total) / med(r_total):.1f}x", flush=True)
        if base:
            print(f"(a) base: {med(b_total):.2f} s ({fmt_cpu({k: med_pair(v) for k, v in b_cpu.items()})}), "
                  f"ratio base/reelay "
                  f"{med(b_total) / med(r_total):.2f}x, shaka-packager/base {med(s_total) / med(b_total):.1f}x",
                  flush=True)

        data, srv, urls = last
        # (b) warm manifests.
        for name, url in (("HLS master", urls["ts"]), ("CMAF master", urls["cmaf"]), ("DASH MPD", urls["dash"])):
            get(url)
            rows = [load(bindir, url, 5) for _ in range(args.runs)]
            print(f"(b) warm {name}: {med([r['rps'] for r in rows]):,.0f} req/s, "
                  f"p50 {med([r['p50_ms'] for r in rows]):.3f} ms, p99 {med([r['p99_ms'] for r in rows]):.3f} ms",
                  flush=True)
        media = hls_urls(urls["ts"])[1]
        rows = [load(bindir, media, 5) for _ in range(args.runs)]
        print(f"(b) warm HLS media playlist: {med([r['rps'] for r in rows]):,.0f} req/s, "
              f"p99 {med([r['p99_ms'] for r in rows]):.3f} ms", flush=True)
        # Cold: restart on the same data dir; the first request of each manifest.
        prepared = {"reelay": (data, cold_targets(urls))}
        srv.stop()
        if base:
            prepared["base"] = cold_prepare(base, srcs, tmp)
        cold_bench(binaries, prepared, args.cold_runs or args.runs, args.minutes)
        if base:
            shutil.rmtree(prepared["base"][0], ignore_errors=True)
        srv = Server(binary, data)

        # (c) clear fMP4 segments: reelay's CMAF segments vs nginx serving shaka's CMAF files.
        if not args.skip_nginx:
            cmaf = urls["cmaf"].replace(urls["cmaf"].split("/mediapackage-vod/")[0], srv.url)
            segs = [u for u in hls_urls(cmaf) if not u.endswith(".m3u8")]
            rpaths = os.path.join(tmp, "reelay-paths.txt")
            with open(rpaths, "w") as f:
                f.write("\n".join(u[len(srv.url):] for u in segs) + "\n")
            fetch_all(segs)  # warm the segment cache, as nginx's files are warm in the page cache
            files = [os.path.relpath(os.path.join(d, f), sout) for d, _, fs in os.walk(os.path.join(sout, "cmaf"))
                     for f in fs if f.endswith(".m4s")]
            npaths = os.path.join(tmp, "nginx-paths.txt")
            with open(npaths, "w") as f:
                f.write("\n".join("/" + p for p in files) + "\n")
            # nginx's workers run as an unprivileged user: let them read the shaka output.
            for d in (tmp, sout):
                os.chmod(d, 0o755)
            ngx, nurl = nginx_serve(sout, tmp)
            try:
                rr, nn = [], []
                for _ in range(args.runs):
                    rr.append(wrk(rpaths, srv.url, args.wrk_seconds))
                    nn.append(wrk(npaths, nurl, args.wrk_seconds))
                print(f"(c) clear fMP4 segments: reelay {med(rr):,.0f} MB/s, nginx {med(nn):,.0f} MB/s, "
                      f"ratio {med(rr) / med(nn) * 100:.0f}%", flush=True)
            finally:
                ngx.terminate()
        srv.stop()


if __name__ == "__main__":
    sys.exit(main())
