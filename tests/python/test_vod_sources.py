"""MediaPackage VOD sources: .m3u8 multivariant playlists of MPEG-TS renditions, and bad sources.

ffmpeg writes the HLS sources (`-f hls`), the AWS CLI uploads them (`aws s3 cp --recursive`), and
the egress (HLS-TS and CMAF) is decoded with ffmpeg / ffprobe.
"""
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import reset
from test_mediapackage_vod_support import mpv, s3
from test_vod_packaging import (BUCKET, SERVERS, create_asset, decode, endpoint, events, get, hls, probe,
                                wait_final)

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("aws") is None,
                                reason="ffmpeg and the AWS CLI are required")

FRAMES = 150  # 6 s at 25 fps


def ff(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


INPUTS = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=6",
          "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6"]
ENCODE = ["-pix_fmt", "yuv420p", "-c:v", "libx264", "-g", "50", "-bf", "2", "-c:a", "aac", "-b:a", "64k",
          "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod"]


@pytest.fixture(scope="module")
def sources():
    """A directory tree as `aws s3 cp --recursive` uploads it."""
    d = tempfile.mkdtemp(prefix="reelay-vod-hls-")
    two = ["-filter_complex", "[0:v]split=2[a][b];[b]scale=640:360[hi]",
           "-map", "[a]", "-map", "[hi]", "-map", "1:a", "-map", "1:a", "-b:v:0", "300k", "-b:v:1", "900k"]
    # Two renditions, audio muxed into each.
    os.makedirs(f"{d}/muxed")
    ff(*INPUTS, *two, *ENCODE, "-master_pl_name", "index.m3u8", "-var_stream_map", "v:0,a:0 v:1,a:1",
       "-hls_segment_filename", f"{d}/muxed/r%v_%03d.ts", f"{d}/muxed/r%v.m3u8")
    # Two video renditions and the audio in its own rendition group (EXT-X-MEDIA TYPE=AUDIO).
    os.makedirs(f"{d}/group")
    ff(*INPUTS, "-filter_complex", "[0:v]split=2[a][b];[b]scale=640:360[hi]",
       "-map", "[a]", "-map", "[hi]", "-map", "1:a", "-b:v:0", "300k", "-b:v:1", "900k", *ENCODE, "-master_pl_name", "index.m3u8",
       "-var_stream_map", "v:0,agroup:aud v:1,agroup:aud a:0,agroup:aud",
       "-hls_segment_filename", f"{d}/group/r%v_%03d.ts", f"{d}/group/r%v.m3u8")
    # Audio only.
    os.makedirs(f"{d}/audio")
    ff(*INPUTS, "-map", "1:a", *ENCODE, "-master_pl_name", "index.m3u8",
       "-hls_segment_filename", f"{d}/audio/a_%03d.ts", f"{d}/audio/a.m3u8")
    # Encrypted (AES-128, as ffmpeg's hls_key_info_file writes it).
    os.makedirs(f"{d}/enc")
    open(f"{d}/enc/key.bin", "wb").write(bytes(range(16)))
    open(f"{d}/enc/keyinfo", "w").write(f"key.bin\n{d}/enc/key.bin\n")
    ff(*INPUTS, *ENCODE, "-hls_key_info_file", f"{d}/enc/keyinfo",
       "-hls_segment_filename", f"{d}/enc/e_%03d.ts", f"{d}/enc/index.m3u8")
    os.remove(f"{d}/enc/keyinfo")
    # A segment cut short: its rendition has a truncated last segment, one with nothing in it.
    os.makedirs(f"{d}/broken")
    for f in os.listdir(f"{d}/muxed"):
        shutil.copy(f"{d}/muxed/{f}", f"{d}/broken/{f}")
    with open(f"{d}/broken/r0_000.ts", "r+b") as f:
        f.truncate(100)
    # A playlist naming a segment outside the bucket.
    os.makedirs(f"{d}/escape")
    open(f"{d}/escape/index.m3u8", "w").write(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\nhttp://169.254.169.254/latest/x.m3u8\n")
    # A playlist naming a rendition that is not there.
    os.makedirs(f"{d}/missing")
    open(f"{d}/missing/index.m3u8", "w").write("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\nnone.m3u8\n")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def upload_tree(server, d):
    c = s3(server)
    try:
        c.create_bucket(Bucket=BUCKET)
    except c.exceptions.BucketAlreadyOwnedByYou:
        pass
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    subprocess.run(["aws", "--endpoint-url", server.url, "s3", "cp", "--recursive", "--only-show-errors",
                    d, f"s3://{BUCKET}/src/hls/"], env=env, check=True)


def setup(server, configs):
    SERVERS.append(server)
    c = mpv(server)
    c.create_packaging_group(Id="g")
    for cid, pkg in configs.items():
        c.create_packaging_configuration(Id=cid, PackagingGroupId="g", **pkg)
    return c


CMAF = {"CmafPackage": {"SegmentDurationSeconds": 2, "HlsManifests": [{"ManifestName": "index"}]}}


def variants(url):
    """(uri, RESOLUTION) of each EXT-X-STREAM-INF, and the audio rendition URIs."""
    import m3u8
    st, _, body = get(url)
    assert st == 200, body
    pl = m3u8.loads(body.decode(), uri=url)
    vs = [(p.absolute_uri, p.stream_info.resolution) for p in pl.playlists]
    audio = [m.absolute_uri for m in pl.media if m.type == "AUDIO" and m.uri]
    return vs, audio


def test_m3u8_sources_play_as_hls_and_cmaf(server, sources):
    reset(server)
    upload_tree(server, sources)
    c = setup(server, {"hls": hls(2), "cmaf": CMAF})
    create_asset(c, "muxed", "hls/muxed/index.m3u8")
    create_asset(c, "group", "hls/group/index.m3u8")
    for asset_id in ("muxed", "group"):
        a = wait_final(c, asset_id)
        assert {e["Status"] for e in a["EgressEndpoints"]} == {"PLAYABLE"}, a
        evs = [e["detail"]["event"] for e in events(server, asset_id)]
        assert evs[:2] == ["IngestStart", "IngestComplete"], evs
        # HLS-TS: both renditions decode whole, with their sizes and the audio.
        url = endpoint(a, "hls")["Url"]
        info = probe(url)
        assert abs(float(info["format"]["duration"]) - 6.0) < 0.3, info
        vs, audio = variants(url)
        assert sorted(r for _, r in vs) == [(320, 240), (640, 360)], vs
        for uri, res in vs:
            child = probe(uri)
            kinds = sorted(s["codec_type"] for s in child["streams"])
            assert kinds == ["audio", "video"], child
            v = next(s for s in child["streams"] if s["codec_type"] == "video")
            assert (v["width"], v["height"]) == res
            err, frames = decode(uri)
            assert err == "" and frames == FRAMES, (uri, err, frames)
        # CMAF: audio in its own group; every rendition decodes.
        url = endpoint(a, "cmaf")["Url"]
        vs, audio = variants(url)
        assert len(vs) == 2 and len(audio) == 1, (vs, audio)
        for uri, res in vs:
            err, frames = decode(uri)
            assert err == "" and frames == FRAMES, (uri, err, frames)
        a_info = probe(audio[0])
        assert [s["codec_name"] for s in a_info["streams"]] == ["aac"]
        assert abs(float(a_info["format"]["duration"]) - 6.0) < 0.3, a_info
    # The sample objects are in the account's ingest bucket, one per rendition.
    keys = [o["Key"] for o in s3(server).list_objects_v2(
        Bucket="reelay-mediapackage-vod-ingest-000000000000")["Contents"]]
    assert sum(k.endswith(".samples") for k in keys) == 5, keys


BAD = [
    ("audioonly", "hls/audio/index.m3u8", "no video track"),
    ("encrypted", "hls/enc/index.m3u8", "encrypted"),
    ("brokenseg", "hls/broken/index.m3u8", "r0_000.ts"),
    ("escape", "hls/escape/index.m3u8", "relative"),
    ("norendition", "hls/missing/index.m3u8", "does not exist"),
    ("mp4trunc", "truncated.mp4", "truncated"),
    ("fragsmil", "frag.smil", "fragmented"),
    ("encmp4", "enc.mp4", "encrypted"),
    ("missing", "missing.smil", "does not exist"),
]


def test_bad_sources_fail_with_their_reason_and_others_keep_playing(server, sources):
    reset(server)
    upload_tree(server, sources)
    mp4 = mp4_bad_files(sources)
    c3 = s3(server)
    for k, v in mp4.items():
        c3.put_object(Bucket=BUCKET, Key=f"src/{k}", Body=v)
    c = setup(server, {"hls": hls(2)})
    create_asset(c, "good", "hls/muxed/index.m3u8")
    for asset_id, key, _ in BAD:
        create_asset(c, asset_id, key)
    for asset_id, key, reason in BAD:
        a = wait_final(c, asset_id)
        assert endpoint(a, "hls")["Status"] == "FAILED", (asset_id, a)
        evs = events(server, asset_id)
        assert [e["detail"]["event"] for e in evs] == ["IngestStart", "IngestError"], (asset_id, evs)
        msg = evs[-1]["detail"]["message"]
        assert reason.lower() in msg.lower(), (asset_id, msg)
        assert get(endpoint(a, "hls")["Url"])[0] == 404
    a = wait_final(c, "good")
    url = endpoint(a, "hls")["Url"]
    vs, _ = variants(url)
    err, frames = decode(vs[0][0])
    assert err == "" and frames == FRAMES


def mp4_bad_files(d):
    """The MP4-based bad sources of issue #5: truncated, fragmented in a .smil, encrypted, missing."""
    ff(*INPUTS, "-pix_fmt", "yuv420p", "-c:v", "libx264", "-g", "50", "-c:a", "aac", "-shortest", f"{d}/ok.mp4")
    ff("-i", f"{d}/ok.mp4", "-c", "copy", "-movflags", "frag_keyframe+empty_moov", f"{d}/frag.mp4")
    ff("-i", f"{d}/ok.mp4", "-c", "copy", "-encryption_scheme", "cenc-aes-ctr",
       "-encryption_key", "00112233445566778899aabbccddeeff",
       "-encryption_kid", "00112233445566778899aabbccddeeff", f"{d}/enc.mp4")
    ok = open(f"{d}/ok.mp4", "rb").read()
    return {
        # The moov is at the end (no faststart), so half a file has mdat only: "truncated".
        "truncated.mp4": ok[: len(ok) // 2],
        "frag.mp4": open(f"{d}/frag.mp4", "rb").read(),
        "enc.mp4": open(f"{d}/enc.mp4", "rb").read(),
        "frag.smil": b'<smil><body><switch><video src="frag.mp4"/></switch></body></smil>',
        "missing.smil": b'<smil><body><switch><video src="nope.mp4"/></switch></body></smil>',
    }
