"""`--auth strict`: signatures are verified against the credentials file.

Requests are signed by botocore itself (boto3 clients, botocore's SigV4Auth and its presigner).
"""
import datetime
import os
import tempfile
import urllib.request

import botocore.exceptions
import pytest

from conftest import Reelay
from rawhttp import call, send

GOOD_KEY = "AKIDREELAYTEST000001"
GOOD_SECRET = "s3cr3t/REELAY+test/key"
ACCOUNT_KEY = "111122223333"


@pytest.fixture(scope="module")
def strict():
    with tempfile.TemporaryDirectory() as d:
        creds = os.path.join(d, "credentials")
        with open(creds, "w") as f:
            f.write(
                "[default]\n"
                f"aws_access_key_id = {GOOD_KEY}\n"
                f"aws_secret_access_key = {GOOD_SECRET}\n"
                "\n[other]\n"
                f"aws_access_key_id = {ACCOUNT_KEY}\n"
                "aws_secret_access_key = another-secret\n"
            )
        with Reelay("--auth", "strict", "--credentials", creds) as r:
            yield r


def passed_auth(code):
    return code not in (
        "InvalidSignatureException",
        "UnrecognizedClientException",
        "MissingAuthenticationTokenException",
        "IncompleteSignatureException",
    )


def test_correctly_signed_boto3_calls_pass(strict):
    for service, call_it in [
        ("ivs", lambda c: c.list_channels()),
        ("ivs-realtime", lambda c: c.list_stages()),
        ("kinesisvideo", lambda c: c.list_streams()),
        ("mediapackage-vod", lambda c: c.list_assets()),
    ]:
        client = strict.client(service, access_key=GOOD_KEY, secret=GOOD_SECRET)
        try:
            call_it(client)
        except botocore.exceptions.ClientError as e:
            assert passed_auth(e.response["Error"]["Code"]), (service, e.response)


def test_percent_encoded_arn_path_verifies(strict):
    client = strict.client("ivs", access_key=GOOD_KEY, secret=GOOD_SECRET)
    try:
        client.list_tags_for_resource(resourceArn="arn:aws:ivs:us-east-1:123456789012:channel/AbCd1234")
    except botocore.exceptions.ClientError as e:
        assert passed_auth(e.response["Error"]["Code"]), e.response


def test_wrong_secret_is_refused(strict):
    client = strict.client("ivs", access_key=GOOD_KEY, secret="wrong")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.list_channels()
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_access_key_is_refused(strict):
    client = strict.client("kinesisvideo", access_key="AKIDUNKNOWN", secret="x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.list_streams()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unsigned_request_is_refused(strict):
    r = send(strict.url, "POST", "/ListChannels", b"{}", {"Content-Type": "application/json"})
    assert r.status == 403
    assert r.code == "MissingAuthenticationTokenException"
    assert "exceptionMessage" in r.json()


def test_stale_signature_is_refused(strict):
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    r = call(strict.url, "POST", "/ListChannels", {}, key=GOOD_KEY, secret=GOOD_SECRET, when=when)
    assert r.status == 403
    assert r.code == "InvalidSignatureException"
    # Within the 15-minute window it passes.
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
    r = call(strict.url, "POST", "/ListChannels", {}, key=GOOD_KEY, secret=GOOD_SECRET, when=when)
    assert passed_auth(r.code), r.body


def test_tampered_body_is_refused(strict):
    r = call(strict.url, "POST", "/ListChannels", {"maxResults": 5}, key=GOOD_KEY, secret=GOOD_SECRET,
             tamper=b'{"maxResults": 6}')
    assert r.status == 403
    assert r.code == "InvalidSignatureException"
    r = call(strict.url, "POST", "/ListChannels", {"maxResults": 5}, key=GOOD_KEY, secret=GOOD_SECRET)
    assert passed_auth(r.code)


def test_presigned_url_passes_and_tampered_or_expired_fails(strict):
    client = strict.client("mediapackage-vod", access_key=GOOD_KEY, secret=GOOD_SECRET)
    url = client.generate_presigned_url("list_assets", Params={"MaxResults": 5}, ExpiresIn=300)
    assert "X-Amz-Signature=" in url

    def fetch(u):
        try:
            with urllib.request.urlopen(u) as resp:
                return resp.status, resp.headers.get("x-amzn-ErrorType", "")
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("x-amzn-ErrorType", "")

    status, code = fetch(url)
    assert passed_auth(code), (status, code)
    status, code = fetch(url.replace("maxResults=5", "maxResults=6"))
    assert (status, code) == (403, "InvalidSignatureException")
    expired = client.generate_presigned_url("list_assets", Params={"MaxResults": 5}, ExpiresIn=1)
    import time
    time.sleep(2.1)
    status, code = fetch(expired)
    assert (status, code) == (403, "InvalidSignatureException")


def test_reset_endpoints_are_off_in_strict_mode(strict):
    r = send(strict.url, "POST", "/_reelay/reset", b"")
    assert r.status == 403  # falls through to the authenticated API surface
    r = send(strict.url, "GET", "/_reelay/health", None)
    assert r.status == 200
