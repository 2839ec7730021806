"""MediaPackage VOD packaging engine: just-in-time Microsoft Smooth Streaming (`MssPackage`).

The sources of test_vod_dash (two renditions, 2 s GOPs with B-frames, AAC, listed by a .smil,
uploaded with the AWS CLI) are packaged as Smooth Streaming. The client manifest is parsed with
Python's XML parser and checked against the sources (CodecPrivateData = the SPS and PPS ffmpeg
finds in the source, chunk durations adding up to the duration), and every fragment of every
quality level is fetched and its boxes checked (moof with mfhd / traf with tfhd, trun and tfxd,
then mdat, sizes and times agreeing with the manifest).
"""
import shutil
import struct
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest

from conftest import reset
from test_mediapackage_vod_support import ROLE, mpv
from test_vod_dash import SECONDS, SIZES, make_sources, upload_dir
from test_vod_packaging import BUCKET, SERVERS, endpoint, get, wait_final

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("aws") is None,
                                reason="ffmpeg and the AWS CLI are required")

TFXD = bytes.fromhex("6d1d9b0542d544e680e2141daff757b2")
TIMESCALE = 10_000_000

CONFIGS = {
    "mss": {"MssPackage": {"SegmentDurationSeconds": 2, "MssManifests": [
        {"ManifestName": "index"},
        {"ManifestName": "low", "StreamSelection": {"MaxVideoBitsPerSecond": 800000}},
    ]}},
    "enc": {"MssPackage": {"MssManifests": [{"ManifestName": "index"}], "Encryption": {"SpekeKeyProvider": {
        "RoleArn": ROLE, "SystemIds": ["9a04f079-9840-4286-ab92-e65be0885f95"],
        "Url": "https://keys.example/speke"}}}},
}


@pytest.fixture(scope="module")
def asset(server):
    d = tempfile.mkdtemp(prefix="reelay-vod-mss-")
    try:
        make_sources(d)
        reset(server)
        SERVERS.append(server)
        upload_dir(server, d, "mss/")
        c = mpv(server)
        c.create_packaging_group(Id="g")
        for cid, pkg in CONFIGS.items():
            c.create_packaging_configuration(Id=cid, PackagingGroupId="g", **pkg)
        c.create_asset(Id="two", PackagingGroupId="g", SourceArn=f"arn:aws:s3:::{BUCKET}/mss/two.smil",
                       SourceRoleArn=ROLE)
        yield wait_final(c, "two", timeout=60), d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def parameter_sets(path):
    """The SPS and PPS of an MP4's H.264 track, as ffmpeg extracts them (Annex B)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-map", "0:v", "-c", "copy", "-bsf:v",
                          "h264_mp4toannexb", "-frames:v", "1", "-f", "h264", "-"],
                         check=True, capture_output=True).stdout
    nals = [n.lstrip(b"\x00") for n in raw.replace(b"\x00\x00\x00\x01", b"\x00\x00\x01").split(b"\x00\x00\x01")]
    sps = [n for n in nals if n and n[0] & 0x1F == 7]
    pps = [n for n in nals if n and n[0] & 0x1F == 8]
    assert sps and pps
    return sps[0], pps[0]


def audio_specific_config(path):
    """The AAC track's AudioSpecificConfig as ffprobe dumps it, in uppercase hex."""
    import json
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a", "-show_data", "-show_entries",
                          "stream=extradata", "-of", "json", path], check=True, capture_output=True, text=True)
    dump = json.loads(out.stdout)["streams"][0]["extradata"]
    # Lines of `offset: hex groups  ascii`.
    return "".join(line.split(":", 1)[1].split("  ")[0].replace(" ", "")
                   for line in dump.strip().splitlines()).upper()


def boxes(buf, start=0, end=None):
    """(type, payload start, box end) of the boxes in buf[start:end]."""
    end = len(buf) if end is None else end
    out = []
    while start < end:
        size, kind = struct.unpack(">I4s", buf[start:start + 8])
        assert size >= 8 and start + size <= end, (kind, size)
        out.append((kind.decode(), start + 8, start + size))
        start += size
    assert start == end
    return out


def check_fragment(frag, t, d):
    """moof(mfhd, traf(tfhd, trun, tfxd)) + mdat, agreeing with the chunk's t and d."""
    top = boxes(frag)
    assert [k for k, _, _ in top] == ["moof", "mdat"], top
    (_, moof_body, moof_end), (_, mdat_body, mdat_end) = top
    inner = boxes(frag, moof_body, moof_end)
    assert [k for k, _, _ in inner] == ["mfhd", "traf"]
    traf = boxes(frag, inner[1][1], inner[1][2])
    assert [k for k, _, _ in traf] == ["tfhd", "trun", "uuid"], traf
    _, tfxd, tfxd_end = traf[2]
    assert frag[tfxd:tfxd + 16] == TFXD and tfxd_end - tfxd == 16 + 4 + 16
    version, time, duration = frag[tfxd + 16], *struct.unpack(">QQ", frag[tfxd + 20:tfxd + 36])
    assert (version, time, duration) == (1, t, d)
    _, trun, _ = traf[1]
    flags = struct.unpack(">I", frag[trun:trun + 4])[0] & 0xFFFFFF
    assert flags == 0xF01, hex(flags)
    count, data_offset = struct.unpack(">Ii", frag[trun + 4:trun + 12])
    assert data_offset == mdat_body, "data offset from the moof start to the first sample"
    rows = [struct.unpack(">IIIi", frag[trun + 12 + 16 * i:trun + 28 + 16 * i]) for i in range(count)]
    assert sum(r[1] for r in rows) == mdat_end - mdat_body, "sample sizes fill the mdat"
    assert sum(r[0] for r in rows) == d, "sample durations add up to the chunk"
    return rows


def test_mss_manifest_and_every_fragment(asset):
    a, d = asset
    url = endpoint(a, "mss")["Url"]
    assert url.endswith("/index.ism/Manifest")
    st, h, body = get(url)
    assert st == 200, body
    assert h["Content-Type"] == "application/vnd.ms-sstr+xml"
    assert h["Access-Control-Allow-Origin"] == "*" and h["Cache-Control"] == "max-age=86400"
    root = ET.fromstring(body)
    assert root.tag == "SmoothStreamingMedia"
    assert int(root.get("TimeScale")) == TIMESCALE and root.get("MajorVersion") == "2"
    duration = int(root.get("Duration"))
    assert abs(duration - SECONDS * TIMESCALE) < TIMESCALE // 25
    streams = {s.get("Type"): s for s in root.findall("StreamIndex")}
    assert sorted(streams) == ["audio", "video"]
    video, audio = streams["video"], streams["audio"]
    # CodecPrivateData: 00000001 SPS 00000001 PPS of each source.
    levels = video.findall("QualityLevel")
    assert video.get("QualityLevels") == "2" and len(levels) == 2
    assert (video.get("MaxWidth"), video.get("MaxHeight")) == ("1280", "720")
    for q, src in zip(levels, ("lo", "hi")):
        sps, pps = parameter_sets(f"{d}/{src}.mp4")
        assert q.get("FourCC") == "H264"
        assert (int(q.get("MaxWidth")), int(q.get("MaxHeight"))) == SIZES[src]
        assert q.get("CodecPrivateData") == ("00000001" + sps.hex() + "00000001" + pps.hex()).upper()
    assert int(levels[1].get("Bitrate")) > int(levels[0].get("Bitrate")) > 100_000
    [aq] = audio.findall("QualityLevel")
    assert aq.get("FourCC") == "AACL" and aq.get("SamplingRate") == "48000" and aq.get("Channels") == "1"
    # The source's AudioSpecificConfig: AAC-LC (2), 48 kHz (index 3), mono = 0x1188, then
    # whatever extension ffmpeg's encoder signals.
    asc = audio_specific_config(f"{d}/lo.mp4")
    assert asc.startswith("1188") and aq.get("CodecPrivateData") == asc
    base = url.rsplit("/", 1)[0]
    for s in (video, audio):
        chunks = [(int(c.get("t")), int(c.get("d"))) for c in s.findall("c")]
        assert int(s.get("Chunks")) == len(chunks) == 5
        for (t0, d0), (t1, _) in zip(chunks, chunks[1:]):
            assert t0 + d0 == t1
        # The chunk durations add up to the duration (audio within one AAC frame).
        assert abs(sum(dd for _, dd in chunks) - duration) <= 213_334, (s.get("Type"), chunks, duration)
        for q in s.findall("QualityLevel"):
            for n, (t, dd) in enumerate(chunks):
                frag_url = s.get("Url").replace("{bitrate}", q.get("Bitrate")).replace("{start time}", str(t))
                st, h, frag = get(f"{base}/{frag_url}")
                assert st == 200, (frag_url, frag)
                assert h["Content-Type"] == ("video/mp4" if s is video else "audio/mp4")
                rows = check_fragment(frag, t, dd)
                if s is video:
                    # Each fragment is one 2 s GOP starting with a sync sample.
                    assert len(rows) == 50
                    assert rows[0][2] & 0x10000 == 0 and all(r[2] & 0x10000 for r in rows[1:])
    # Video presentation starts where audio does (B-frame delay and AAC priming both mapped).
    v0 = int(video.find("c").get("t"))
    a0 = int(audio.find("c").get("t"))
    assert v0 == 0 and 0 < a0 < TIMESCALE // 10


def test_mss_stream_selection_errors_and_http(asset):
    a, _ = asset
    url = endpoint(a, "mss")["Url"]
    base = url.rsplit("/", 2)[0]
    st, _, body = get(f"{base}/low.ism/Manifest")
    assert st == 200
    low = ET.fromstring(body)
    [v] = [s for s in low.findall("StreamIndex") if s.get("Type") == "video"]
    assert [q.get("MaxHeight") for q in v.findall("QualityLevel")] == ["360"]
    # HEAD and ranges.
    import urllib.request
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD")) as r:
        assert r.status == 200 and r.read() == b""
    st, h, part = get(url, {"Range": "bytes=0-4"})
    assert st == 206 and part == b"<?xml"
    root = ET.fromstring(get(url)[2])
    video = [s for s in root.findall("StreamIndex") if s.get("Type") == "video"][0]
    bitrate = video.find("QualityLevel").get("Bitrate")
    ok = f"{base}/index.ism/QualityLevels({bitrate})/Fragments(video=0)"
    assert get(ok)[0] == 200
    for bad in (f"index.ism/QualityLevels({bitrate})/Fragments(video=1)",
                "index.ism/QualityLevels(1)/Fragments(video=0)",
                f"index.ism/QualityLevels({bitrate})/Fragments(audio=0)",
                f"index.ism/QualityLevels({bitrate})/Fragments(text=0)",
                "index.ism/manifest", "nope.ism/Manifest", "index.mpd", "index.m3u8", "index.ism"):
        assert get(f"{base}/{bad}")[0] == 404, bad
    # Encrypted Smooth Streaming is not packaged in the clear: an explicit 501.
    st, _, body = get(endpoint(a, "enc")["Url"])
    assert st == 501 and b"encrypted MssPackage" in body


def test_mss_endpoint_is_playable(asset):
    a, _ = asset
    assert endpoint(a, "mss")["Status"] == "PLAYABLE", a
    assert endpoint(a, "enc")["Status"] == "FAILED", a
