"""MediaPackage VOD packaging engine: ingest of .mp4 / .smil sources and just-in-time HLS (TS).

Media is generated with ffmpeg at test time, uploaded to reelay's S3 endpoint with boto3, and the
egress URLs are checked with ffprobe / ffmpeg and by reading the playlists.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from conftest import Reelay, backend_args, reset
from test_mediapackage_vod_support import ROLE, mpv, s3

BUCKET = "vod-media"
FRAMES = 150  # 6 s at 25 fps

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is required")


def ff(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def media():
    """Sources: two renditions (320x240, 640x360; 2 s GOPs, B-frames, AAC) and bad inputs."""
    d = tempfile.mkdtemp(prefix="reelay-vod-media-")
    common = ["-pix_fmt", "yuv420p", "-c:v", "libx264", "-g", "50", "-bf", "2", "-c:a", "aac", "-shortest"]
    for name, size in (("lo", "320x240"), ("hi", "640x360")):
        ff("-f", "lavfi", "-i", f"testsrc=size={size}:rate=25:duration=6",
           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6",
           *common, f"{d}/{name}.mp4")
    ff("-i", f"{d}/lo.mp4", "-c", "copy", "-movflags", "frag_keyframe+empty_moov", f"{d}/frag.mp4")
    ff("-i", f"{d}/lo.mp4", "-vn", "-c", "copy", f"{d}/audio.mp4")
    ff("-i", f"{d}/lo.mp4", "-c", "copy", "-encryption_scheme", "cenc-aes-ctr",
       "-encryption_key", "00112233445566778899aabbccddeeff",
       "-encryption_kid", "00112233445566778899aabbccddeeff", f"{d}/enc.mp4")
    data = open(f"{d}/lo.mp4", "rb").read()
    files = {
        "lo.mp4": data,
        "hi.mp4": open(f"{d}/hi.mp4", "rb").read(),
        "frag.mp4": open(f"{d}/frag.mp4", "rb").read(),
        "audio.mp4": open(f"{d}/audio.mp4", "rb").read(),
        "enc.mp4": open(f"{d}/enc.mp4", "rb").read(),
        "truncated.mp4": data[: len(data) // 2],
        "random.mp4": os.urandom(50_000),
        "two.smil": b'<?xml version="1.0"?><smil><body><switch>'
                    b'<video src="lo.mp4"/><video src="hi.mp4"/></switch></body></smil>',
        "missing.smil": b'<smil><body><switch><video src="nope.mp4"/></switch></body></smil>',
        "frag.smil": b'<smil><body><switch><video src="frag.mp4"/></switch></body></smil>',
    }
    yield files
    shutil.rmtree(d, ignore_errors=True)


def upload(server, files):
    c = s3(server)
    try:
        c.create_bucket(Bucket=BUCKET)
    except c.exceptions.BucketAlreadyOwnedByYou:
        pass
    for k, v in files.items():
        c.put_object(Bucket=BUCKET, Key=f"src/{k}", Body=v)


SERVERS = []


def setup(server, media, configs):
    """Group `g` with `configs` ({id: package kwargs})."""
    SERVERS.append(server)
    upload(server, media)
    c = mpv(server)
    c.create_packaging_group(Id="g")
    for cid, pkg in configs.items():
        c.create_packaging_configuration(Id=cid, PackagingGroupId="g", **pkg)
    return c


def create_asset(c, asset_id, key):
    return c.create_asset(Id=asset_id, PackagingGroupId="g", SourceArn=f"arn:aws:s3:::{BUCKET}/src/{key}",
                          SourceRoleArn=ROLE)


def wait_final(c, asset_id, timeout=20):
    """Poll DescribeAsset until no endpoint is QUEUED or PROCESSING."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        a = c.describe_asset(Id=asset_id)
        statuses = {e["Status"] for e in a["EgressEndpoints"]}
        if statuses and not statuses & {"QUEUED", "PROCESSING"}:
            return a
        time.sleep(0.1)
    log = "".join(SERVERS[-1].stderr_lines[-40:]) if SERVERS else ""
    raise AssertionError(f"asset {asset_id} did not finish ingest: {a}\n{log}")



def endpoint(asset, config_id):
    return next(e for e in asset["EgressEndpoints"] if e["PackagingConfigurationId"] == config_id)


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def events(server, asset_id=None):
    c = s3(server)
    bucket = "reelay-mediapackage-vod-events-000000000000"
    out = []
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="us-east-1/"):
        for o in page.get("Contents", []):
            ev = json.loads(c.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
            if ev["detail-type"] == "MediaPackage Input Notification":
                if asset_id is None or any(r.endswith(f":assets/{asset_id}") for r in ev["resources"]):
                    out.append(ev)
    return out


def probe(url):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height:format=duration",
         "-of", "json", url], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def decode(url, stream="v"):
    """Decode everything; return (stderr, decoded video frames)."""
    p = subprocess.run(["ffmpeg", "-v", "error", "-i", url, "-map", "0", "-f", "null", "-"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    n = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", stream, "-show_entries",
         "stream=nb_read_frames", "-of", "csv=p=0", url], check=True, capture_output=True, text=True).stdout
    return p.stderr, int(n.strip().split("\n")[0].strip(","))


def hls(seg=2, **manifest):
    m = {"ManifestName": "index"}
    m.update(manifest)
    return {"HlsPackage": {"SegmentDurationSeconds": seg, "HlsManifests": [m]}}


def test_mp4_to_hls_ts_end_to_end(api_server, media):
    reset(api_server)
    c = setup(api_server, media, {"hls": hls(2, IncludeIframeOnlyStream=True, ProgramDateTimeIntervalSeconds=4)})
    create_asset(c, "a1", "lo.mp4")
    a = wait_final(c, "a1")
    ep = endpoint(a, "hls")
    assert ep["Status"] == "PLAYABLE"
    url = ep["Url"]
    assert url.endswith("/index.m3u8")
    status, headers, body = get(url)
    assert status == 200
    assert headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert headers["Access-Control-Allow-Origin"] == "*"
    text = body.decode()
    variants = re.findall(r"#EXT-X-STREAM-INF:([^\n]*)\n([^\n]+)", text)
    assert len(variants) == 1
    attrs, child = variants[0]
    assert "RESOLUTION=320x240" in attrs and 'CODECS="avc1.' in attrs and "mp4a.40.2" in attrs
    iframe = re.search(r'#EXT-X-I-FRAME-STREAM-INF:.*URI="([^"]+)"', text)
    assert iframe, text
    base = url.rsplit("/", 1)[0]
    media_pl = get(f"{base}/{child}")[2].decode()
    assert "#EXT-X-TARGETDURATION:2" in media_pl
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in media_pl and "#EXT-X-ENDLIST" in media_pl
    durations = [float(x) for x in re.findall(r"#EXTINF:([0-9.]+),", media_pl)]
    assert len(durations) == 3 and all(abs(d - 2.0) < 0.01 for d in durations), durations
    # PROGRAM-DATE-TIME every 4 s: on segments 1 and 3.
    assert media_pl.count("#EXT-X-PROGRAM-DATE-TIME:") == 2
    # The I-frame playlist: one entry per 2 s GOP, byte ranges into the TS segments.
    ifr = get(f"{base}/{iframe.group(1)}")[2].decode()
    assert "#EXT-X-I-FRAMES-ONLY" in ifr
    ranges = re.findall(r"#EXT-X-BYTERANGE:(\d+)@(\d+)\n([^\n]+)", ifr)
    assert len(ranges) == 3
    seg = get(f"{base}/{ranges[1][2]}")
    assert seg[0] == 200 and seg[1]["Content-Type"] == "video/MP2T"
    length, offset = int(ranges[1][0]), int(ranges[1][1])
    part = get(f"{base}/{ranges[1][2]}", {"Range": f"bytes={offset}-{offset + length - 1}"})
    assert part[0] == 206 and part[2] == seg[2][offset:offset + length]
    assert part[2][0] == 0x47 and length % 188 == 0
    # Real clients: ffprobe sees H.264 + AAC for 6 s; ffmpeg decodes every frame without error.
    info = probe(url)
    kinds = sorted((s["codec_type"], s["codec_name"]) for s in info["streams"])
    assert kinds == [("audio", "aac"), ("video", "h264")]
    assert abs(float(info["format"]["duration"]) - 6.0) < 0.5
    err, frames = decode(url)
    assert err == ""
    assert frames == FRAMES
    # HEAD and unknown names.
    req = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(req) as r:
        assert r.status == 200 and r.read() == b"" and int(r.headers["Content-Length"]) == len(body)
    assert get(f"{base}/index.v0.99.m3u8")[0] == 404
    assert get(f"{base}/v0.99.ts")[0] == 404
    assert get(f"{base}/nope.m3u8")[0] == 404
    assert get(url.replace("/out/v1/", "/out/v2/"))[0] == 404
    # Events: IngestStart, IngestComplete, VodAssetPlayable with the manifest URL.
    evs = [e["detail"]["event"] for e in events(api_server, "a1")]
    assert evs == ["IngestStart", "IngestComplete", "VodAssetPlayable"]
    playable = events(api_server, "a1")[-1]
    assert playable["source"] == "aws.mediapackage"
    assert playable["detail"]["manifest_urls"] == [url]
    assert playable["detail"]["packaging_configuration_id"] == "hls"


def test_smil_renditions_audio_group_and_stream_order(api_server, media):
    reset(api_server)
    c = setup(api_server, media, {
        "grouped": {"HlsPackage": {"SegmentDurationSeconds": 6, "UseAudioRenditionGroup": True, "HlsManifests": [
            {"ManifestName": "desc", "StreamSelection": {"StreamOrder": "VIDEO_BITRATE_DESCENDING"}},
            {"ManifestName": "asc", "StreamSelection": {"StreamOrder": "VIDEO_BITRATE_ASCENDING"}},
            {"ManifestName": "low", "StreamSelection": {"MaxVideoBitsPerSecond": 1}},
        ]}},
        "dash": {"DashPackage": {"DashManifests": [{"ManifestName": "index"}]}},
    })
    create_asset(c, "two", "two.smil")
    a = wait_final(c, "two")
    assert endpoint(a, "grouped")["Status"] == "PLAYABLE"
    # DASH from the same group and source is packaged too.
    dash = endpoint(a, "dash")
    assert dash["Status"] == "PLAYABLE"
    st, _, body = get(dash["Url"])
    assert st == 200 and b"<MPD" in body
    url = endpoint(a, "grouped")["Url"]
    assert url.endswith("/desc.m3u8")
    base = url.rsplit("/", 1)[0]
    desc = get(url)[2].decode()
    assert re.search(r'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio".*URI="([^"]+)"', desc)
    res = re.findall(r"#EXT-X-STREAM-INF:.*RESOLUTION=(\d+x\d+)", desc)
    assert res == ["640x360", "320x240"]
    assert all('AUDIO="audio"' in l for l in desc.splitlines() if l.startswith("#EXT-X-STREAM-INF"))
    asc = get(f"{base}/asc.m3u8")[2].decode()
    assert re.findall(r"RESOLUTION=(\d+x\d+)", asc) == ["320x240", "640x360"]
    low = get(f"{base}/low.m3u8")[2].decode()
    assert "#EXT-X-STREAM-INF" not in low
    # One 6 s segment per rendition (6 s target, 2 s GOPs).
    child = re.findall(r"#EXT-X-STREAM-INF:[^\n]*\n([^\n]+)", desc)[0]
    pl = get(f"{base}/{child}")[2].decode()
    assert "#EXT-X-TARGETDURATION:6" in pl and pl.count("#EXTINF") == 1
    # Video segments carry no audio; the audio rendition is its own playlist; all decode.
    info = probe(f"{base}/{child}")
    assert [s["codec_type"] for s in info["streams"]] == ["video"]
    assert info["streams"][0]["width"] == 640
    info = probe(url)
    assert sorted(s["codec_type"] for s in info["streams"] if s["codec_type"] in ("audio", "video")).count("video") == 2
    err, frames = decode(f"{base}/{child}")
    assert err == "" and frames == FRAMES
    audio_uri = re.search(r'#EXT-X-MEDIA:TYPE=AUDIO.*URI="([^"]+)"', desc).group(1)
    ainfo = probe(f"{base}/{audio_uri}")
    assert [s["codec_name"] for s in ainfo["streams"]] == ["aac"]
    assert abs(float(ainfo["format"]["duration"]) - 6.0) < 0.5


BAD = [
    ("truncated", "truncated.mp4", "moov"),
    ("random", "random.mp4", "mp4"),
    ("fragmented", "frag.smil", "fragmented"),
    ("audioonly", "audio.mp4", "video track"),
    ("encrypted", "enc.mp4", "encrypted"),
    ("missing", "missing.smil", "does not exist"),
]


def test_bad_sources_fail_with_a_reason(api_server, media):
    reset(api_server)
    c = setup(api_server, media, {"hls": hls(6)})
    for asset_id, key, _ in BAD:
        create_asset(c, asset_id, key)
    create_asset(c, "good", "lo.mp4")
    for asset_id, key, reason in BAD:
        a = wait_final(c, asset_id)
        assert endpoint(a, "hls")["Status"] == "FAILED", (asset_id, a)
        evs = events(api_server, asset_id)
        assert [e["detail"]["event"] for e in evs] == ["IngestStart", "IngestError"], asset_id
        assert reason.lower() in evs[-1]["detail"]["message"].lower(), (asset_id, evs[-1])
        st, _, _ = get(endpoint(a, "hls")["Url"])
        assert st == 404
    # The server keeps serving the good asset.
    a = wait_final(c, "good")
    st, _, body = get(endpoint(a, "hls")["Url"])
    assert st == 200 and b"#EXT-X-STREAM-INF" in body


def test_delete_asset_and_aws_cli(api_server, media):
    reset(api_server)
    c = setup(api_server, media, {"hls": hls(2)})
    create_asset(c, "x", "lo.mp4")
    url = endpoint(wait_final(c, "x"), "hls")["Url"]
    assert get(url)[0] == 200
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    out = subprocess.run(["aws", "--endpoint-url", api_server.url, "mediapackage-vod", "describe-asset", "--id", "x"],
                         env=env, check=True, capture_output=True, text=True).stdout
    assert json.loads(out)["EgressEndpoints"][0]["Status"] == "PLAYABLE"
    c.delete_asset(Id="x")
    assert get(url)[0] == 404
    # The same id again is a new asset with a new URL, ingested anew.
    create_asset(c, "x", "lo.mp4")
    url2 = endpoint(wait_final(c, "x"), "hls")["Url"]
    assert url2 != url and get(url2)[0] == 200


def test_restart_keeps_the_index(api_server, media):
    """After PLAYABLE, a restart on the same data serves the asset without parsing it again."""
    d = tempfile.mkdtemp(prefix="reelay-vod-restart-")
    args = backend_args(api_server.backend)
    try:
        with Reelay(*args, data_dir=d) as r:
            c = setup(r, media, {"hls": hls(2)})
            create_asset(c, "keep", "lo.mp4")
            status = endpoint(wait_final(c, "keep"), "hls")["Status"]
            assert status == "PLAYABLE", (events(r, "keep"), "".join(r.stderr_lines[-40:]))
        with Reelay(*args, data_dir=d) as r:
            c = mpv(r)
            a = c.describe_asset(Id="keep")
            assert endpoint(a, "hls")["Status"] == "PLAYABLE"
            url = endpoint(a, "hls")["Url"]
            err, frames = decode(url)
            assert err == "" and frames == FRAMES
            # Exactly one ingest ever happened for this asset.
            starts = [e for e in events(r, "keep") if e["detail"]["event"] == "IngestStart"]
            assert len(starts) == 1
        # The binary copy of the index is only a cache of the chunk records: without it, a
        # restarted server reads the chunks and still serves the asset.
        with Reelay(*args, data_dir=d) as r:
            c3 = s3(r)
            bucket = "reelay-mediapackage-vod-ingest-000000000000"
            copies = [o["Key"] for o in c3.list_objects_v2(Bucket=bucket).get("Contents", [])
                      if o["Key"].endswith("/index.rvix")]
            assert len(copies) == 1
            c3.delete_object(Bucket=bucket, Key=copies[0])
            err, frames = decode(endpoint(mpv(r).describe_asset(Id="keep"), "hls")["Url"])
            assert err == "" and frames == FRAMES
    finally:
        shutil.rmtree(d, ignore_errors=True)
