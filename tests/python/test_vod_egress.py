"""MediaPackage VOD egress: CDN authorization (with rotation), access logs, encryption refused,
and the HLS manifest options read back by Python's `m3u8` parser.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

import m3u8
import pytest

from conftest import advance_clock, reset
from test_mediapackage_vod_support import ROLE, SPEKE_URL, mpv, s3
from test_vod_packaging import BUCKET, SERVERS, create_asset, endpoint, get, wait_final

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is required")

ACCOUNT = "000000000000"
SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:MediaPackage/cdn-AbCdEf"
SECRETS_BUCKET = f"reelay-secretsmanager-{ACCOUNT}"
SECRET_KEY = "us-east-1/MediaPackage/cdn-AbCdEf"
HEADER = "X-MediaPackage-CDNIdentifier"


def ff(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def media():
    """Two renditions of 6 s with clearly different bitrates (2 s GOPs), and a .smil of both."""
    d = tempfile.mkdtemp(prefix="reelay-vod-egress-")
    for name, size, rate in (("lo", "320x240", "150k"), ("hi", "640x360", "1200k")):
        ff("-f", "lavfi", "-i", f"testsrc=size={size}:rate=25:duration=6",
           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6",
           "-pix_fmt", "yuv420p", "-c:v", "libx264", "-g", "50", "-b:v", rate, "-c:a", "aac", "-shortest",
           f"{d}/{name}.mp4")
    files = {n: open(f"{d}/{n}.mp4", "rb").read() for n in ("lo", "hi")}
    shutil.rmtree(d, ignore_errors=True)
    return {
        "lo.mp4": files["lo"],
        "hi.mp4": files["hi"],
        "two.smil": b'<smil><body><switch><video src="lo.mp4"/><video src="hi.mp4"/></switch></body></smil>',
    }


def setup(server, media, configs, **group):
    SERVERS.append(server)
    c3 = s3(server)
    try:
        c3.create_bucket(Bucket=BUCKET)
    except c3.exceptions.BucketAlreadyOwnedByYou:
        pass
    for k, v in media.items():
        c3.put_object(Bucket=BUCKET, Key=f"src/{k}", Body=v)
    c = mpv(server)
    c.create_packaging_group(Id="g", **group)
    for cid, pkg in configs.items():
        c.create_packaging_configuration(Id=cid, PackagingGroupId="g", **pkg)
    return c


def hls_package(*manifests, seg=2):
    return {"HlsPackage": {"SegmentDurationSeconds": seg, "HlsManifests": list(manifests)}}


def put_secret(server, version, value):
    c = s3(server)
    try:
        c.create_bucket(Bucket=SECRETS_BUCKET)
    except c.exceptions.BucketAlreadyOwnedByYou:
        pass
    c.put_object(Bucket=SECRETS_BUCKET, Key=f"{SECRET_KEY}/{version}",
                 Body=json.dumps({"MediaPackageCDNIdentifier": value}).encode())


def message(body):
    return json.loads(body)["message"]


def test_cdn_authorization_and_rotation(server, media):
    reset(server)
    c = setup(server, media, {"hls": hls_package({"ManifestName": "index"})},
              Authorization={"CdnIdentifierSecret": SECRET_ARN, "SecretsRoleArn": ROLE})
    create_asset(c, "a", "lo.mp4")
    url = endpoint(wait_final(c, "a"), "hls")["Url"]
    # No secret stored yet: closed, with a message saying why.
    st, h, body = get(url, {HEADER: "whatever-value"})
    assert st == 403 and h["Content-Type"] == "application/json"
    assert "cannot be read" in message(body), body
    put_secret(server, "AWSCURRENT", "11111111-aaaa-4bbb-8ccc-000000000001")
    advance_clock(server, 61)  # secrets are re-read once a minute of reelay's clock
    assert get(url)[0] == 403
    st, _, body = get(url, {HEADER: "11111111-aaaa-4bbb-8ccc-000000000002"})
    assert st == 403 and "does not match" in message(body)
    st, _, body = get(url, {HEADER: "11111111-aaaa-4bbb-8ccc-000000000001"})
    assert st == 200 and body.startswith(b"#EXTM3U")
    # Rotation: the new value is current, the old one previous; both work.
    put_secret(server, "AWSPREVIOUS", "11111111-aaaa-4bbb-8ccc-000000000001")
    put_secret(server, "AWSCURRENT", "22222222-aaaa-4bbb-8ccc-000000000002")
    advance_clock(server, 61)
    for value in ("11111111-aaaa-4bbb-8ccc-000000000001", "22222222-aaaa-4bbb-8ccc-000000000002"):
        assert get(url, {HEADER: value})[0] == 200, value
    # Saving the new value again (no previous) retires the old one.
    s3(server).delete_object(Bucket=SECRETS_BUCKET, Key=f"{SECRET_KEY}/AWSPREVIOUS")
    advance_clock(server, 61)
    assert get(url, {HEADER: "11111111-aaaa-4bbb-8ccc-000000000001"})[0] == 403
    assert get(url, {HEADER: "22222222-aaaa-4bbb-8ccc-000000000002"})[0] == 200
    # A malformed secret closes access again; turning authorization off opens it.
    s3(server).put_object(Bucket=SECRETS_BUCKET, Key=f"{SECRET_KEY}/AWSCURRENT", Body=b"{not json")
    advance_clock(server, 61)
    assert get(url, {HEADER: "22222222-aaaa-4bbb-8ccc-000000000002"})[0] == 403
    c.update_packaging_group(Id="g")
    assert get(url)[0] == 200


def read_logs(server, prefix, want, timeout=10):
    c = s3(server)
    bucket = f"reelay-mediapackage-vod-logs-{ACCOUNT}"
    deadline = time.monotonic() + timeout
    records = []
    while time.monotonic() < deadline:
        records = []
        try:
            pages = list(c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix))
        except c.exceptions.NoSuchBucket:
            pages = []
        for page in pages:
            for o in page.get("Contents", []):
                body = c.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode()
                records += [json.loads(line) for line in body.splitlines() if line]
        if len(records) >= want:
            return records
        time.sleep(0.1)
    raise AssertionError(f"{len(records)} access log records, expected {want}")


def test_egress_access_logs(server, media):
    reset(server)
    c = setup(server, media, {"hls": hls_package({"ManifestName": "index"})})
    create_asset(c, "a", "lo.mp4")
    url = endpoint(wait_final(c, "a"), "hls")["Url"]
    # Logging off: nothing is written.
    assert get(url)[0] == 200
    c.configure_logs(Id="g", EgressAccessLogs={"LogGroupName": "/aws/MediaPackage/VodLogs"})
    assert get(url, {"User-Agent": "reelay-test/1"})[0] == 200
    assert get(url.replace("index.m3u8", "index.v0.m3u8"), {"User-Agent": "reelay-test/1"})[0] == 200
    assert get(url.replace("index.m3u8", "nope.m3u8"), {"User-Agent": "reelay-test/1"})[0] == 404
    recs = read_logs(server, "aws/MediaPackage/VodLogs/", 3)
    assert len(recs) == 3, recs
    assert [r["statusCode"] for r in recs] == ["200", "200", "404"]
    for r in recs:
        for k in ("timestamp", "clientIp", "processingTime", "receivedBytes", "sentBytes", "method", "request",
                  "protocol", "userAgent", "account", "domainName", "requestId"):
            assert k in r, (k, r)
        assert r["method"] == "GET" and r["userAgent"] == "reelay-test/1" and r["account"] == ACCOUNT
        assert r["assetId"] == "a" and r["assetArn"].endswith(":assets/a")
        assert r["packagingConfigId"] == "hls" and r["packagingGroupId"] == "g"
        assert r["timestamp"].endswith("Z") and len(r["timestamp"].split(".")[1]) == 7
    assert recs[0]["request"].endswith("/index.m3u8") and recs[0]["sentBytes"] > 0
    assert len({r["requestId"] for r in recs}) == 3
    # Turning logs off stops them.
    c.configure_logs(Id="g")
    assert get(url)[0] == 200
    time.sleep(1.0)  # longer than the writer's flush period: a record would be there by now
    assert len(read_logs(server, "aws/MediaPackage/VodLogs/", 3)) == 3


def test_encrypted_configurations_answer_an_error_not_clear_content(server, media):
    reset(server)
    speke = {"RoleArn": ROLE, "SystemIds": ["81376844-f976-481e-a84e-cc25d39b0b33"], "Url": SPEKE_URL}
    cmaf_speke = dict(speke, SystemIds=["94ce86fb-07ff-4f43-adb8-93d2fa968ca2"])
    c = setup(server, media, {
        "hlsenc": {"HlsPackage": {"HlsManifests": [{"ManifestName": "index"}],
                                  "Encryption": {"SpekeKeyProvider": speke}}},
        "cmafenc": {"CmafPackage": {"HlsManifests": [{"ManifestName": "index"}],
                                    "Encryption": {"SpekeKeyProvider": cmaf_speke}}},
        "clear": hls_package({"ManifestName": "index"}),
    })
    create_asset(c, "a", "lo.mp4")
    a = wait_final(c, "a")
    assert endpoint(a, "clear")["Status"] == "PLAYABLE"
    for cid in ("hlsenc", "cmafenc"):
        assert endpoint(a, cid)["Status"] == "FAILED"
        base = endpoint(a, cid)["Url"].rsplit("/", 1)[0]
        for f in ("index.m3u8", "index.v0.m3u8", "v0.1.ts", "v0.init.mp4", "v0.1.mp4"):
            st, _, body = get(f"{base}/{f}")
            assert st == 501, (cid, f, st)
            assert "encrypted" in message(body), body
            assert b"#EXTM3U" not in body


def test_hls_manifest_options_with_m3u8(server, media):
    reset(server)
    c = setup(server, media, {"opts": hls_package(
        {"ManifestName": "desc", "IncludeIframeOnlyStream": True, "ProgramDateTimeIntervalSeconds": 4,
         "StreamSelection": {"StreamOrder": "VIDEO_BITRATE_DESCENDING"}},
        {"ManifestName": "asc", "StreamSelection": {"StreamOrder": "VIDEO_BITRATE_ASCENDING"}},
        {"ManifestName": "orig"},
        {"ManifestName": "hi_only", "StreamSelection": {"MinVideoBitsPerSecond": 200000}},
        {"ManifestName": "lo_only", "StreamSelection": {"MaxVideoBitsPerSecond": 200000}},
    )})
    create_asset(c, "a", "two.smil")
    a = wait_final(c, "a")
    url = endpoint(a, "opts")["Url"]
    assert url.endswith("/desc.m3u8")  # the first manifest's name
    base = url.rsplit("/", 1)[0]

    def load(name):
        st, _, body = get(f"{base}/{name}")
        assert st == 200, (name, body)
        return m3u8.loads(body.decode(), uri=f"{base}/{name}")

    def heights(pl):
        return [p.stream_info.resolution[1] for p in pl.playlists]

    desc, asc, orig = load("desc.m3u8"), load("asc.m3u8"), load("orig.m3u8")
    assert heights(desc) == [360, 240] and heights(asc) == [240, 360] and heights(orig) == [240, 360]
    bw = [p.stream_info.bandwidth for p in desc.playlists]
    assert bw == sorted(bw, reverse=True)
    assert heights(load("hi_only.m3u8")) == [360] and heights(load("lo_only.m3u8")) == [240]
    assert not asc.iframe_playlists and not orig.iframe_playlists
    # I-frame stream of the first rendition (after ordering): byte ranges that decode alone.
    assert len(desc.iframe_playlists) == 1
    ifr = desc.iframe_playlists[0]
    assert ifr.iframe_stream_info.resolution == (640, 360)
    first_uri = desc.playlists[0].absolute_uri
    st, _, body = get(ifr.absolute_uri)
    iframes = m3u8.loads(body.decode(), uri=ifr.absolute_uri)
    assert iframes.is_i_frames_only and len(iframes.segments) == 3
    for seg in iframes.segments:
        length, offset = (int(x) for x in seg.byterange.split("@"))
        assert offset % 188 == 0 and length % 188 == 0
        assert seg.absolute_uri.rsplit("/", 1)[0] == first_uri.rsplit("/", 1)[0]
        st, _, chunk = get(seg.absolute_uri, {"Range": f"bytes={offset}-{offset + length - 1}"})
        assert st == 206 and len(chunk) == length
        p = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v",
                            "-show_entries", "stream=nb_read_frames,width", "-of", "json", "-"],
                           input=chunk, capture_output=True, check=True)
        s = json.loads(p.stdout)["streams"][0]
        assert s["width"] == 640 and int(s["nb_read_frames"]) == 1, (seg.uri, s)
    # Program date-time: on the first segment, then every 4 s of content (segments are 2 s).
    media_pl = m3u8.load(first_uri)
    tagged = [s.program_date_time for s in media_pl.segments if s.program_date_time]
    assert len(media_pl.segments) == 3 and len(tagged) == 2, media_pl.dumps()
    assert (tagged[1] - tagged[0]).total_seconds() == pytest.approx(4.0, abs=0.01)
    created = a["CreatedAt"]
    assert tagged[0].strftime("%Y-%m-%dT%H:%M:%S") == created[:19]
    assert not [s for s in load("asc.m3u8").playlists if s is None]
    assert all(s.program_date_time is None for s in m3u8.load(asc.playlists[0].absolute_uri).segments)
