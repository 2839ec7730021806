#!/usr/bin/env python3
"""Smoke test of the S3 endpoint with the real AWS CLI and boto3.

Usage (from the workspace root):

    python3 crates/reelay-s3/examples/s3_smoke.py

Without S3_SMOKE_ENDPOINT it builds and starts the `s3-serve` example on a free port and
reports the server's peak RSS (VmHWM) at the end. With S3_SMOKE_ENDPOINT=http://host:port it
runs against an already running endpoint. SMOKE_SIZE_MB sets the size of the large file
(default 50). Needs `aws` (AWS CLI) and `boto3` on PATH / in the Python environment.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

import boto3
from botocore.config import Config

RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append((name, bool(ok)))
    print(f"{'PASS' if ok else 'FAIL'} {name} {detail}", flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def start_server():
    """Builds the example, starts it on port 0 and waits for its ready line."""
    out = subprocess.run(
        ["cargo", "build", "--release", "-p", "reelay-s3", "--example", "s3-serve", "--message-format=json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    binary = None
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and msg["target"]["name"] == "s3-serve":
            binary = msg["executable"]
    if binary is None:
        sys.exit("could not find the s3-serve binary")
    proc = subprocess.Popen([binary, "--port", "0"], stdout=subprocess.PIPE, text=True)
    ready = proc.stdout.readline().strip()
    prefix = "s3-serve listening on "
    if not ready.startswith(prefix):
        proc.kill()
        sys.exit(f"unexpected first line from s3-serve: {ready!r}")
    return proc, ready[len(prefix):]


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def aws(endpoint, *args):
    cmd = ["aws", "--endpoint-url", endpoint, "--region", "us-east-1", *args]
    started = time.monotonic()
    res = subprocess.run(cmd, capture_output=True, text=True)
    took = time.monotonic() - started
    if res.returncode != 0:
        print(res.stdout, res.stderr, file=sys.stderr)
    return res, took


def main():
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    size_mb = int(os.environ.get("SMOKE_SIZE_MB", "50"))
    proc = None
    endpoint = os.environ.get("S3_SMOKE_ENDPOINT")
    if not endpoint:
        proc, endpoint = start_server()
    print(f"endpoint {endpoint}", flush=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            big = os.path.join(tmp, "big.bin")
            with open(big, "wb") as f:
                for _ in range(size_mb):
                    f.write(os.urandom(1 << 20))
            digest = sha256_file(big)

            # AWS CLI.
            res, _ = aws(endpoint, "s3", "mb", "s3://smoke")
            check("cli mb", res.returncode == 0)
            res, took = aws(endpoint, "s3", "cp", big, "s3://smoke/dir/big.bin")
            check("cli cp up", res.returncode == 0, f"{size_mb} MB in {took:.1f}s")
            res, _ = aws(endpoint, "s3", "ls", "s3://smoke/dir/")
            check("cli ls", res.returncode == 0 and "big.bin" in res.stdout and str(size_mb << 20) in res.stdout, res.stdout.strip())
            res, _ = aws(endpoint, "s3", "ls", "s3://smoke")
            check("cli ls prefixes", res.returncode == 0 and "PRE dir/" in res.stdout, res.stdout.strip())
            down = os.path.join(tmp, "down.bin")
            res, took = aws(endpoint, "s3", "cp", "s3://smoke/dir/big.bin", down)
            check("cli cp down", res.returncode == 0 and sha256_file(down) == digest, f"{took:.1f}s, byte-identical")
            res, _ = aws(endpoint, "s3", "rm", "s3://smoke/dir/big.bin")
            check("cli rm", res.returncode == 0)
            res, _ = aws(endpoint, "s3", "ls", "s3://smoke/dir/")
            check("cli ls after rm", "big.bin" not in res.stdout)

            # boto3 (s3transfer for upload_file/download_file).
            s3 = boto3.client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}))
            started = time.monotonic()
            s3.upload_file(big, "smoke", "boto/big.bin")
            check("boto3 upload_file", True, f"{time.monotonic() - started:.1f}s")
            head = s3.head_object(Bucket="smoke", Key="boto/big.bin")
            check("boto3 head_object", head["ContentLength"] == size_mb << 20, head["ETag"])
            down2 = os.path.join(tmp, "down2.bin")
            started = time.monotonic()
            s3.download_file("smoke", "boto/big.bin", down2)
            check("boto3 download_file", sha256_file(down2) == digest, f"{time.monotonic() - started:.1f}s, byte-identical")
            with open(big, "rb") as f:
                f.seek(1000)
                expect = f.read(4096)
            got = s3.get_object(Bucket="smoke", Key="boto/big.bin", Range="bytes=1000-5095")
            body = got["Body"].read()
            check("boto3 ranged get_object", body == expect and got["ContentRange"] == f"bytes 1000-5095/{size_mb << 20}", got["ContentRange"])
            # A small object: put_object sends a CRC32 checksum, get_object validates it.
            s3.put_object(Bucket="smoke", Key="small.txt", Body=b"hello checksum", ContentType="text/plain", Metadata={"k": "v"})
            small = s3.get_object(Bucket="smoke", Key="small.txt", ChecksumMode="ENABLED")
            check(
                "boto3 checksum round trip",
                small["Body"].read() == b"hello checksum" and small.get("ChecksumCRC32") and small["Metadata"] == {"k": "v"},
                str(small.get("ChecksumCRC32")),
            )
            listed = s3.list_objects_v2(Bucket="smoke")
            check("boto3 list_objects_v2", sorted(o["Key"] for o in listed["Contents"]) == ["boto/big.bin", "small.txt"])
            s3.copy_object(Bucket="smoke", Key="copy.txt", CopySource={"Bucket": "smoke", "Key": "small.txt"})
            check("boto3 copy_object", s3.get_object(Bucket="smoke", Key="copy.txt")["Body"].read() == b"hello checksum")
            deleted = s3.delete_objects(Bucket="smoke", Delete={"Objects": [{"Key": k} for k in ["boto/big.bin", "small.txt", "copy.txt"]]})
            check("boto3 delete_objects", len(deleted.get("Deleted", [])) == 3)
            s3.delete_bucket(Bucket="smoke")
            check("boto3 delete_bucket", "smoke" not in [b["Name"] for b in s3.list_buckets()["Buckets"]])
    finally:
        if proc is not None:
            rss = peak_rss_kib(proc.pid)
            if rss is not None:
                print(f"server peak RSS (VmHWM): {rss / 1024:.1f} MiB")
            proc.terminate()
            proc.wait(timeout=10)
    passed = sum(1 for _, ok in RESULTS if ok)
    failed = len(RESULTS) - passed
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
