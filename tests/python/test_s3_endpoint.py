"""The S3-compatible endpoint with real clients: AWS CLI multipart, boto3 transfers, ranges,
hostile keys, and bounded memory while transferring."""
import hashlib
import os
import subprocess

import botocore.exceptions
import pytest

from conftest import Reelay


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cli(server, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
               AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
    return subprocess.run(["aws", "--endpoint-url", server.url, *args], capture_output=True, text=True, env=env,
                          timeout=600, check=True)


def write_random(path, size):
    h = hashlib.sha256()
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        left = size
        i = 0
        while left:
            chunk = (block[i % 251:] + block[: i % 251])[: min(left, len(block))]
            f.write(chunk)
            h.update(chunk)
            left -= len(chunk)
            i += 1
    return h.hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def test_cli_multipart_200mb_round_trip_with_bounded_memory(fresh_server, tmp_path):
    size = 200 * 1024 * 1024 + 12345
    src = tmp_path / "big.bin"
    digest = write_random(src, size)
    cli(fresh_server, "s3", "mb", "s3://big")
    cli(fresh_server, "s3", "cp", str(src), "s3://big/big.bin")  # multipart: 8 MiB parts
    head = fresh_server.client("s3").head_object(Bucket="big", Key="big.bin")
    assert head["ContentLength"] == size
    parts = -(-size // (8 * 1024 * 1024))  # the CLI uploads 8 MiB parts
    assert head["ETag"].strip('"').endswith(f"-{parts}"), head["ETag"]  # a multipart ETag
    back = tmp_path / "back.bin"
    cli(fresh_server, "s3", "cp", "s3://big/big.bin", str(back))
    assert sha256_file(back) == digest
    peak = rss_kib(fresh_server.proc.pid)
    print(f"reelay peak RSS after a 200 MiB multipart round trip: {peak / 1024:.1f} MiB")
    assert peak < 150 * 1024, f"peak RSS {peak} KiB suggests whole-object buffering"


def test_boto3_transfers_and_ranges(fresh_server, tmp_path):
    s3 = fresh_server.client("s3")
    s3.create_bucket(Bucket="media")
    src = tmp_path / "f.bin"
    digest = write_random(src, 20 * 1024 * 1024 + 3)
    s3.upload_file(str(src), "media", "videos/f.bin")
    dst = tmp_path / "g.bin"
    s3.download_file("media", "videos/f.bin", str(dst))
    assert sha256_file(dst) == digest
    data = src.read_bytes()
    r = s3.get_object(Bucket="media", Key="videos/f.bin", Range="bytes=100-1099")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["ContentRange"] == f"bytes 100-1099/{len(data)}"
    assert r["Body"].read() == data[100:1100]
    r = s3.get_object(Bucket="media", Key="videos/f.bin", Range="bytes=-10")
    assert r["Body"].read() == data[-10:]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="media", Key="videos/f.bin", Range=f"bytes={len(data) + 5}-")
    assert e.value.response["Error"]["Code"] == "InvalidRange"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="media", Key="nope")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="nobucket", Key="x")
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket="media")
    assert e.value.response["Error"]["Code"] == "BucketAlreadyOwnedByYou"
    page = s3.list_objects_v2(Bucket="media", Prefix="videos/", Delimiter="/")
    assert [o["Key"] for o in page["Contents"]] == ["videos/f.bin"]


HOSTILE = [
    "../../../etc/passwd",
    "/absolute/path",
    "a/../../b",
    "..",
    ".",
    "dir//double",
    "with space and ünïcødé ☃",
    "percent%2Fencoded%00",
    "x" * 1024,
    "trailing/",
    "back\\slash",
]


def test_hostile_keys_stay_inside_their_bucket(tmp_path):
    data_dir = tmp_path / "data"
    with Reelay(data_dir=str(data_dir)) as r:
        s3 = r.client("s3")
        s3.create_bucket(Bucket="hostile")
        for i, key in enumerate(HOSTILE):
            s3.put_object(Bucket="hostile", Key=key, Body=f"v{i}".encode())
        for i, key in enumerate(HOSTILE):
            assert s3.get_object(Bucket="hostile", Key=key)["Body"].read() == f"v{i}".encode(), key
        listed = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="hostile"):
            listed += [o["Key"] for o in page.get("Contents", [])]
        assert sorted(listed, key=lambda k: k.encode()) == sorted(HOSTILE, key=lambda k: k.encode())
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_object(Bucket="hostile", Key="y" * 1025, Body=b"x")
        assert e.value.response["Error"]["Code"] == "KeyTooLongError"
    # Nothing escaped the data dir, and no file anywhere is named like a traversal target.
    outside = tmp_path.parent
    for root, dirs, files in os.walk(tmp_path):
        assert os.path.realpath(root).startswith(os.path.realpath(str(data_dir))) or root == str(tmp_path)
    assert not os.path.exists(os.path.join(str(outside), "etc", "passwd"))
    assert not os.path.exists("/absolute/path")
