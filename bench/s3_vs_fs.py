#!/usr/bin/env python3
"""PutObject/GetObject throughput of reelay's S3 endpoint beside a filesystem copy of the same
bytes on the same machine, interleaved run by run.

    python3 bench/s3_vs_fs.py [--runs 7]        (REELAY_BIN=path skips the release build)

Builds release reelay, starts it on a free loopback port with a throwaway data dir, and times
whole commands: `curl --aws-sigv4` PUT/GET of 1 MiB and 100 MiB objects versus `cp` of the same
file into / `cat` of it out of a directory on the same filesystem. Reports the median seconds,
MB/s and the reelay/filesystem throughput ratio.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    binary = os.environ.get("REELAY_BIN")
    if not binary:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "reelay-server"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target/release/reelay")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        data = os.path.join(tmp, "data")
        proc = subprocess.Popen([binary, "serve", "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0",
                                 "--data-dir", data, "--log-level", "warn"], stdout=subprocess.PIPE, text=True)
        try:
            line = ""
            while not line.startswith("reelay listening on "):
                line = proc.stdout.readline()
            url = line.split("reelay listening on ", 1)[1].strip()
            sig = ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "test:test", "-sf"]
            subprocess.run(["curl", *sig, "-X", "PUT", f"{url}/bench"], check=True)
            fsdir = os.path.join(tmp, "fs")
            os.makedirs(fsdir)
            print(f"{'case':<28}{'reelay s':>10}{'fs s':>10}{'reelay MB/s':>13}{'fs MB/s':>10}{'ratio':>8}")
            for label, size in (("1MiB", 1 << 20), ("100MiB", 100 << 20)):
                src = os.path.join(tmp, f"src-{label}")
                with open(src, "wb") as f:
                    f.write(os.urandom(size))
                rows = {"put (vs cp)": ([], []), "get>file (vs cp)": ([], []), "get>null (vs cat)": ([], [])}
                out = os.path.join(tmp, "out.bin")
                for i in range(args.runs + 1):  # the first round warms caches and is dropped
                    t = [
                        timed(["curl", *sig, "-T", src, f"{url}/bench/{label}", "-o", "/dev/null"]),
                        timed(["cp", src, os.path.join(fsdir, label)]),
                        timed(["curl", *sig, f"{url}/bench/{label}", "-o", out]),
                        timed(["cp", os.path.join(fsdir, label), out]),
                        timed(["curl", *sig, f"{url}/bench/{label}", "-o", "/dev/null"]),
                        timed(["sh", "-c", f"cat {os.path.join(fsdir, label)} > /dev/null"]),
                    ]
                    if i:
                        for j, (r, f) in enumerate(rows.values()):
                            r.append(t[2 * j])
                            f.append(t[2 * j + 1])
                for op, (r, f) in rows.items():
                    mr, mf = statistics.median(r), statistics.median(f)
                    mbr, mbf = size / mr / 1e6, size / mf / 1e6
                    print(f"{label + ' ' + op:<28}{mr:>10.4f}{mf:>10.4f}{mbr:>13.1f}{mbf:>10.1f}{mbr / mbf:>8.2f}")
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
