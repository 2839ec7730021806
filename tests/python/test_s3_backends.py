"""The object store behind reelay is swappable: `--object-store s3://bucket/prefix` puts every
object in any S3-compatible store (here: a second reelay's S3 endpoint), and strict SigV4 applies
to the S3 endpoint too."""
import os
import tempfile

import botocore.exceptions
import pytest

from conftest import Reelay


def test_objects_live_in_an_s3_compatible_store(tmp_path):
    with Reelay() as backing:
        backing.client("s3").create_bucket(Bucket="backing")
        env = {
            "AWS_ENDPOINT_URL": backing.url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }
        with Reelay("--object-store", "s3://backing/reelay-objects", env=env) as front:
            s3 = front.client("s3")
            s3.create_bucket(Bucket="media")
            data = os.urandom(9 * 1024 * 1024 + 5)
            s3.put_object(Bucket="media", Key="dir/video.mp4", Body=data)
            assert s3.get_object(Bucket="media", Key="dir/video.mp4")["Body"].read() == data
            r = s3.get_object(Bucket="media", Key="dir/video.mp4", Range="bytes=10-19")
            assert r["Body"].read() == data[10:20]
            src = tmp_path / "big.bin"
            src.write_bytes(data)
            s3.upload_file(str(src), "media", "multi.bin")  # multipart through the backing store
            assert s3.get_object(Bucket="media", Key="multi.bin")["Body"].read() == data
            # The bytes really are in the backing store, under the prefix.
            keys = [o["Key"] for p in backing.client("s3").get_paginator("list_objects_v2").paginate(
                Bucket="backing") for o in p.get("Contents", [])]
            assert keys and all(k.startswith("reelay-objects/") for k in keys)
            assert sum(o["Size"] for p in backing.client("s3").get_paginator("list_objects_v2").paginate(
                Bucket="backing") for o in p.get("Contents", [])) >= 2 * len(data)
        # Nothing went to the front server's local object directory.
        assert not os.path.exists(os.path.join(front.data_dir, "objects")) or not any(
            files for _, _, files in os.walk(os.path.join(front.data_dir, "objects")))


@pytest.fixture(scope="module")
def strict():
    with tempfile.TemporaryDirectory() as d:
        creds = os.path.join(d, "credentials")
        with open(creds, "w") as f:
            f.write("[default]\naws_access_key_id = AKIDS3STRICT\naws_secret_access_key = right-secret\n")
        with Reelay("--auth", "strict", "--credentials", creds) as r:
            yield r


def test_strict_auth_applies_to_s3(strict):
    good = strict.client("s3", access_key="AKIDS3STRICT", secret="right-secret")
    good.create_bucket(Bucket="strict")
    good.put_object(Bucket="strict", Key="k", Body=b"v" * 1000)
    assert good.get_object(Bucket="strict", Key="k")["Body"].read() == b"v" * 1000
    url = good.generate_presigned_url("get_object", Params={"Bucket": "strict", "Key": "k"}, ExpiresIn=60)
    import urllib.request
    with urllib.request.urlopen(url) as resp:
        assert resp.read() == b"v" * 1000
    bad = strict.client("s3", access_key="AKIDS3STRICT", secret="wrong")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bad.get_object(Bucket="strict", Key="k")
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    unknown = strict.client("s3", access_key="AKIDNOPE", secret="x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        unknown.list_buckets()
    assert e.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def fetch(url):
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_presigned_urls_both_signature_versions(strict, fresh_server):
    import botocore.config
    import time
    for server, key, secret in ((strict, "AKIDS3STRICT", "right-secret"), (fresh_server, "test", "test")):
        for version in ("s3", "s3v4"):  # botocore's default presign here is SigV2 ("s3")
            plain = server.client("s3", access_key=key, secret=secret)
            try:
                plain.create_bucket(Bucket="presign")
            except botocore.exceptions.ClientError:
                pass
            plain.put_object(Bucket="presign", Key="a b/ü.txt", Body=b"payload")
            s3 = server.client("s3", access_key=key, secret=secret, signature_version=version)
            url = s3.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "a b/ü.txt"}, ExpiresIn=60)
            assert ("AWSAccessKeyId=" in url) == (version == "s3")
            assert fetch(url) == (200, b"payload"), (version, url)
            if server is strict:
                tampered = url.replace("presign/", "presign/x", 1)
                status, body = fetch(tampered)
                assert status == 403 and b"SignatureDoesNotMatch" in body, body
                expired = s3.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "a b/ü.txt"},
                                                    ExpiresIn=1)
                time.sleep(2.1)
                status, body = fetch(expired)
                assert status == 403 and b"AccessDenied" in body, body
