#!/usr/bin/env python3
"""PutObject/GetObject throughput of reelay's S3 endpoint beside the filesystem and beside nginx
serving the same bytes, on the same machine, interleaved run by run.

    python3 bench/s3_vs_fs.py [--runs 7] [--sizes 1,100]    (REELAY_BIN=path skips the build)

Builds release reelay and starts it on a free loopback port with a throwaway data dir; when
`nginx` is installed (Debian package `nginx-light`), also starts one nginx worker with `sendfile
on` serving the same file from the same filesystem, as the "filesystem read rate over HTTP"
baseline. Then, per size and per round:

- whole commands: `curl --aws-sigv4` PUT/GET against `cp` into / `cat` out of a directory on the
  same filesystem, and plain `curl` GET from nginx;
- a raw-socket client (this script: one HTTP/1.1 GET, a reused 4 MiB receive buffer, the body
  discarded) against reelay (presigned URL) and nginx, because curl's 16 KiB buffer makes curl
  itself the bottleneck above about 1.5 GB/s. For this client the script also reads each server's
  CPU time from /proc, giving CPU seconds per GB served: a figure far less sensitive to other
  load on the machine than wall-clock rates.

Reports medians (the first round warms caches and is dropped) and ratios.
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def cpu_seconds(pids):
    """User + system CPU time of the given processes (all their threads)."""
    total = 0
    for pid in pids:
        # Fields after the parenthesised command name; utime and stime are the 14th and 15th.
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def raw_get(url, buf):
    """One GET over a fresh connection; returns (seconds, body bytes). The body is discarded."""
    u = urllib.parse.urlsplit(url)
    target = u.path + ("?" + u.query if u.query else "")
    view = memoryview(buf)
    t = time.perf_counter()
    with socket.create_connection((u.hostname, u.port)) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {u.netloc}\r\nConnection: close\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            n = s.recv_into(view)
            if not n:
                raise RuntimeError("connection closed in the response head")
            head += bytes(view[:n])
        status, rest = head.split(b"\r\n\r\n", 1)
        if not status.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"unexpected response: {status[:200]!r}")
        length = next(int(line.split(b":", 1)[1]) for line in status.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        got = len(rest)
        while got < length:
            n = s.recv_into(view)
            if not n:
                raise RuntimeError("short body")
            got += n
    return time.perf_counter() - t, length


def presign(url, bucket, key):
    import boto3  # only the raw-client rows need it

    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    return s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nginx(tmp, root):
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not binary:
        print("nginx not found (Debian: nginx-light): the nginx baseline rows are skipped", file=sys.stderr)
        return None, None
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    # One worker like reelay's one listener; as root, the worker must be allowed into the 0700 temp dir.
    user = "user root;" if os.geteuid() == 0 else ""
    with open(conf, "w") as f:
        f.write(f"daemon off; {user} worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/nginx.err;\n"
                f"events {{}}\n"
                f"http {{ access_log off; sendfile on; tcp_nopush on;\n"
                f"  server {{ listen 127.0.0.1:{port}; root {root}; }} }}\n")
    proc = subprocess.Popen([binary, "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            break
        except OSError:
            time.sleep(0.05)
    children = open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split()
    return proc, (url, [proc.pid, *map(int, children)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--sizes", default="1,100", help="object sizes in MiB, comma-separated")
    args = ap.parse_args()
    binary = os.environ.get("REELAY_BIN")
    if not binary:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "reelay-server"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target/release/reelay")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        data = os.path.join(tmp, "data")
        proc = subprocess.Popen([binary, "serve", "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0",
                                 "--data-dir", data, "--log-level", "warn"], stdout=subprocess.PIPE, text=True)
        fsdir = os.path.join(tmp, "fs")
        os.makedirs(fsdir)
        nginx_proc, nginx = start_nginx(tmp, fsdir)
        try:
            line = ""
            while not line.startswith("reelay listening on "):
                line = proc.stdout.readline()
                if not line and proc.poll() is not None:
                    raise RuntimeError("reelay exited before listening")
            url = line.split("reelay listening on ", 1)[1].strip()
            sig = ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "test:test", "-sf"]
            subprocess.run(["curl", *sig, "-X", "PUT", f"{url}/bench"], check=True)
            print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores, {args.runs} rounds")
            print(f"{'case':<40}{'reelay':>10}{'peer':>10}{'ratio':>8}   (MB/s, medians; peer in the case name)")
            buf = bytearray(4 << 20)
            for mib in (int(s) for s in args.sizes.split(",")):
                label, size = f"{mib}MiB", mib << 20
                src = os.path.join(tmp, f"src-{label}")
                with open(src, "wb") as f:
                    f.write(os.urandom(size))
                shutil.copyfile(src, os.path.join(fsdir, label))
                subprocess.run(["curl", *sig, "-T", src, f"{url}/bench/{label}", "-o", "/dev/null"], check=True)
                signed = presign(url, "bench", label)
                out = os.path.join(tmp, "out.bin")
                rows = {}

                def add(name, reelay_s, peer_s):
                    r, p = rows.setdefault(name, ([], []))
                    r.append(reelay_s)
                    p.append(peer_s)

                cpu = {"reelay": [], "nginx": []}
                for i in range(args.runs + 1):  # the first round warms caches and is dropped
                    t = {
                        "put, curl (vs cp)": (
                            timed(["curl", *sig, "-T", src, f"{url}/bench/{label}", "-o", "/dev/null"]),
                            timed(["cp", src, os.path.join(fsdir, label)])),
                        "get>file, curl (vs cp)": (
                            timed(["curl", *sig, f"{url}/bench/{label}", "-o", out]),
                            timed(["cp", os.path.join(fsdir, label), out])),
                        "get>null, curl (vs cat)": (
                            timed(["curl", *sig, f"{url}/bench/{label}", "-o", "/dev/null"]),
                            timed(["sh", "-c", f"cat {os.path.join(fsdir, label)} > /dev/null"])),
                    }
                    if nginx:
                        t["get>file, curl (vs nginx)"] = (
                            t["get>file, curl (vs cp)"][0],
                            timed(["curl", "-sf", f"{nginx[0]}/{label}", "-o", out]))
                        t["get>null, curl (vs nginx)"] = (
                            t["get>null, curl (vs cat)"][0],
                            timed(["curl", "-sf", f"{nginx[0]}/{label}", "-o", "/dev/null"]))
                        c0 = cpu_seconds([proc.pid])
                        reelay_s, _ = raw_get(signed, buf)
                        c1 = cpu_seconds([proc.pid])
                        n0 = cpu_seconds(nginx[1])
                        peer_s, _ = raw_get(f"{nginx[0]}/{label}", buf)
                        n1 = cpu_seconds(nginx[1])
                        t["get>null, raw client (vs nginx)"] = (reelay_s, peer_s)
                        if i:
                            cpu["reelay"].append((c1 - c0) / size * 1e9)
                            cpu["nginx"].append((n1 - n0) / size * 1e9)
                    if i:
                        for name, (r, p) in t.items():
                            add(name, r, p)
                for name, (r, p) in rows.items():
                    mbr, mbp = size / statistics.median(r) / 1e6, size / statistics.median(p) / 1e6
                    print(f"{label + ' ' + name:<40}{mbr:>10.0f}{mbp:>10.0f}{mbr / mbp:>8.2f}")
                if cpu["reelay"] and size >= 64 << 20:
                    # CPU time is sampled in clock ticks (10 ms), so only large objects give a figure.
                    cr, cn = statistics.median(cpu["reelay"]), statistics.median(cpu["nginx"])
                    print(f"{label + ' server CPU s/GB, raw client':<40}{cr:>10.3f}{cn:>10.3f}{cr / cn if cn else float('inf'):>8.2f}")
        finally:
            for p in (nginx_proc, proc):
                if p:
                    p.terminate()
                    p.wait()


if __name__ == "__main__":
    sys.exit(main())
