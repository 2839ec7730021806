"""A corpus of malformed requests: each gets its service's own 4xx error code and format."""
import json

import pytest

from rawhttp import call, send

IVS_ARN = "arn:aws:ivs:us-east-1:123456789012:channel/AbCd1234"

# (id, service signing name, method, path, body, expected status, expected code, message key, text)
CORPUS = [
    ("invalid-json", "ivs", "POST", "/GetChannel", b'{"arn": ', 400, "SerializationException", "exceptionMessage", "JSON"),
    ("not-an-object", "ivs", "POST", "/GetChannel", b"[1,2]", 400, "SerializationException", "exceptionMessage", "object"),
    ("invalid-utf8", "ivs", "POST", "/GetChannel", b'{"arn": "\xff\xfe"}', 400, "SerializationException", "exceptionMessage", "JSON"),
    ("wrong-type", "ivs", "POST", "/GetChannel", {"arn": 42}, 400, "ValidationException", "exceptionMessage", "must be a string"),
    ("missing-required", "ivs", "POST", "/GetChannel", {}, 400, "ValidationException", "exceptionMessage", "must not be null"),
    ("too-long", "ivs", "POST", "/CreateChannel", {"name": "x" * 129}, 400, "ValidationException", "exceptionMessage", "less than or equal to 128"),
    ("bad-pattern", "ivs", "POST", "/GetChannel", {"arn": "arn:aws:s3:::bucket"}, 400, "ValidationException", "exceptionMessage", "pattern"),
    ("bad-enum", "ivs", "POST", "/CreateChannel", {"latencyMode": "FASTEST"}, 400, "ValidationException", "exceptionMessage", "enum value set"),
    ("out-of-range", "ivs", "POST", "/ListChannels", {"maxResults": 101}, 400, "ValidationException", "exceptionMessage", "less than or equal to 100"),
    ("int-overflow", "ivs", "POST", "/ListChannels", {"maxResults": 2**40}, 400, "ValidationException", "exceptionMessage", "32-bit"),
    ("bad-bool", "ivs", "POST", "/CreateChannel", {"authorized": "true"}, 400, "ValidationException", "exceptionMessage", "boolean"),
    ("rt-missing", "ivs", "POST", "/GetStage", {}, 400, "ValidationException", "exceptionMessage", "arn"),
    ("kvs-bad-name", "kinesisvideo", "POST", "/describeStream", {"StreamName": "bad name!"}, 400, "InvalidArgumentException", "Message", "pattern"),
    ("kvs-range", "kinesisvideo", "POST", "/listStreams", {"MaxResults": 0}, 400, "InvalidArgumentException", "Message", "greater than or equal to 1"),
    ("kvs-invalid-json", "kinesisvideo", "POST", "/createStream", b"{{", 400, "SerializationException", "Message", "JSON"),
    ("kvs-media-missing", "kinesisvideo", "POST", "/getMedia", {}, 400, "InvalidArgumentException", "Message", "StartSelector"),
    ("signaling-missing", "kinesisvideo", "POST", "/v1/get-ice-server-config", {}, 400, "InvalidArgumentException", "Message", "ChannelARN"),
    ("webrtc-storage-missing", "kinesisvideo", "POST", "/joinStorageSession", {}, 400, "InvalidArgumentException", "message", "channelArn"),
    ("mpv-missing", "mediapackage-vod", "POST", "/assets", {"id": "a"}, 422, "UnprocessableEntityException", "message", "3 validation errors"),
    ("mpv-query-int", "mediapackage-vod", "GET", "/assets?maxResults=abc", b"", 422, "UnprocessableEntityException", "message", "integer"),
    ("mpv-query-range", "mediapackage-vod", "GET", "/assets?maxResults=5000", b"", 422, "UnprocessableEntityException", "message", "1000"),
    ("bad-percent", "ivs", "GET", "/tags/arn%3Aaws%zz", b"", 400, "ValidationException", "exceptionMessage", "percent"),
    ("bad-percent-utf8", "ivs", "GET", "/tags/arn%FF%FE", b"", 400, "ValidationException", "exceptionMessage", "UTF-8"),
    ("unknown-path", "ivs", "POST", "/NoSuchOperation", b"{}", 404, "UnknownOperationException", "exceptionMessage", "NoSuchOperation"),
    ("unknown-kvs-path", "kinesisvideo", "POST", "/createChannel", b"{}", 404, "UnknownOperationException", "Message", "createChannel"),
    ("wrong-method", "ivs", "GET", "/CreateChannel", b"", 405, "MethodNotAllowedException", "exceptionMessage", "POST"),
]


@pytest.mark.parametrize("case", CORPUS, ids=[c[0] for c in CORPUS])
def test_malformed_request_gets_the_service_error(server, case):
    _, service, method, path, body, status, code, key, text = case
    r = call(server.url, method, path, body, service=service)
    assert r.status == status, r.body
    assert r.code == code, r.headers
    assert text in r.json()[key], r.json()
    assert r.headers.get("x-amzn-requestid")


def test_oversize_body_is_refused_without_reading_it(server):
    # Declared length over the 8 MiB default: refused on the headers alone.
    r = send(server.url, "POST", "/CreateChannel", None,
             {"Content-Length": str(64 * 1024 * 1024), "Content-Type": "application/json"})
    assert r.status == 413
    assert r.code == "RequestEntityTooLargeException"


def test_oversize_chunked_body_is_refused(server):
    import http.client, urllib.parse
    u = urllib.parse.urlsplit(server.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    chunk = b"x" * (1024 * 1024)
    conn.putrequest("POST", "/CreateChannel")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    try:
        for _ in range(10):
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before reading everything
    r = conn.getresponse()
    assert r.status == 413
    assert r.getheader("x-amzn-errortype") == "RequestEntityTooLargeException"


def test_server_keeps_serving_after_the_corpus(server):
    r = call(server.url, "POST", "/ListChannels", {})
    assert r.status in (200, 501)


def test_percent_encoded_arn_label_routes_to_ivs_or_realtime(server):
    ll = call(server.url, "GET", "/tags/arn%3Aaws%3Aivs%3Aus-east-1%3A123456789012%3Achannel%2FAbCd")
    rt = call(server.url, "GET", "/tags/arn%3Aaws%3Aivs%3Aus-east-1%3A123456789012%3Astage%2FAbCd")
    # Both reach a handler (501 until implemented, 404 when the resource is unknown), never the
    # unknown-route error; the messages name the service that answered.
    assert ll.code != "UnknownOperationException" and rt.code != "UnknownOperationException"
    if ll.code == "NotImplementedException":
        assert "ivs ListTagsForResource" in ll.json()["exceptionMessage"]
        assert "ivs-realtime ListTagsForResource" in rt.json()["exceptionMessage"]


def test_put_media_is_routed_and_not_implemented_yet(server):
    # PutMedia is in no botocore model; curl signs it the way KVS producers do.
    import subprocess
    p = subprocess.run(
        ["curl", "-s", "-o", "-", "-w", "\\n%{http_code}", "--aws-sigv4", "aws:amz:us-east-1:kinesisvideo",
         "--user", "test:test", "-X", "POST", "-H", "x-amzn-stream-name: s", "-H", "x-amzn-fragment-timecode-type: ABSOLUTE",
         "-H", "x-amzn-producer-start-timestamp: 1700000000", "--data-binary", "", server.url + "/putMedia"],
        capture_output=True, text=True, timeout=30, check=True)
    body, status = p.stdout.rsplit("\n", 1)
    assert status == "501", p.stdout
    assert "PutMedia" in json.loads(body)["Message"]
