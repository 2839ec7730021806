"""MediaPackage VOD packaging engine: just-in-time DASH (`DashPackage`).

ffmpeg makes two renditions (640x360 and 1280x720, 2 s GOPs with B-frames, AAC) listed by a
.smil, the AWS CLI uploads them, and every DashPackage option is checked at the egress URL: the
MPD is parsed with `mpegdash` (written by others) and its attributes asserted, and every
Representation is fetched as a player does (init segment + every media segment the MPD
announces) and decoded with ffmpeg; the NUMBER_WITH_TIMELINE MPD is also opened by ffmpeg's
own DASH demuxer. (ffmpeg 5.1's demuxer skips the first `$Time$` segment and asks for one
segment too many with `@duration`, so those two formats are decoded segment by segment.)
"""
import math
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import reset
from test_mediapackage_vod_support import ROLE, mpv, s3
from test_vod_packaging import BUCKET, SERVERS, endpoint, get, wait_final

mpegdash = pytest.importorskip("mpegdash.parser")

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("aws") is None,
                                reason="ffmpeg and the AWS CLI are required")

SECONDS = 10
FRAMES = SECONDS * 25
SIZES = {"lo": (640, 360), "hi": (1280, 720)}
FORMATS = ["NUMBER_WITH_TIMELINE", "TIME_WITH_TIMELINE", "NUMBER_WITH_DURATION"]
LAYOUTS = ["FULL", "COMPACT"]


def ff(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def make_sources(d):
    """Two renditions of the same 10 s (2 s GOPs, B-frames, AAC) and a .smil listing them."""
    for name, (w, h) in SIZES.items():
        ff("-f", "lavfi", "-i", f"testsrc=size={w}x{h}:rate=25:duration={SECONDS}",
           "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}",
           "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-bf", "2",
           "-b:v", "400k" if name == "lo" else "1200k", "-c:a", "aac", "-b:a", "96k", "-shortest",
           f"{d}/{name}.mp4")
    with open(f"{d}/two.smil", "w") as f:
        f.write('<?xml version="1.0"?><smil><body><switch>'
                '<video src="lo.mp4"/><video src="hi.mp4"/></switch></body></smil>')


def upload_dir(server, d, prefix):
    c = s3(server)
    try:
        c.create_bucket(Bucket=BUCKET)
    except c.exceptions.BucketAlreadyOwnedByYou:
        pass
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    subprocess.run(["aws", "--endpoint-url", server.url, "s3", "cp", "--recursive", "--only-show-errors",
                    d, f"s3://{BUCKET}/{prefix}"], env=env, check=True)


def dash(fmt, layout, seg=2, **extra):
    m = {"ManifestName": "index", "ManifestLayout": layout, "MinBufferTimeSeconds": 10}
    pkg = {"SegmentDurationSeconds": seg, "SegmentTemplateFormat": fmt, "DashManifests": [m]}
    pkg.update(extra)
    return {"DashPackage": pkg}


CONFIGS = {f"{f.lower()}-{l.lower()}": dash(f, l) for f in FORMATS for l in LAYOUTS}
CONFIGS["multi"] = {"DashPackage": {
    "SegmentDurationSeconds": 4, "IncludeEncoderConfigurationInSegments": True, "PeriodTriggers": ["ADS"],
    "DashManifests": [
        {"ManifestName": "all", "StreamSelection": {"StreamOrder": "VIDEO_BITRATE_DESCENDING"}},
        {"ManifestName": "hbbtv", "Profile": "HBBTV_1_5", "ManifestLayout": "COMPACT",
         "StreamSelection": {"MaxVideoBitsPerSecond": 800000}},
    ]}}
CONFIGS["enc"] = {"DashPackage": {"DashManifests": [{"ManifestName": "index"}], "Encryption": {
    "SpekeKeyProvider": {"RoleArn": ROLE, "SystemIds": ["edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"],
                         "Url": "https://keys.example/speke"}}}}


@pytest.fixture(scope="module")
def asset(server):
    d = tempfile.mkdtemp(prefix="reelay-vod-dash-")
    try:
        make_sources(d)
        reset(server)
        SERVERS.append(server)
        upload_dir(server, d, "dash/")
        c = mpv(server)
        c.create_packaging_group(Id="g")
        for cid, pkg in CONFIGS.items():
            c.create_packaging_configuration(Id=cid, PackagingGroupId="g", **pkg)
        c.create_asset(Id="two", PackagingGroupId="g", SourceArn=f"arn:aws:s3:::{BUCKET}/dash/two.smil",
                       SourceRoleArn=ROLE)
        a = wait_final(c, "two", timeout=60)
        yield a, d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def parse_mpd(url):
    st, h, body = get(url)
    assert st == 200, body
    assert h["Content-Type"] == "application/dash+xml"
    assert h["Access-Control-Allow-Origin"] == "*"
    assert h["Cache-Control"] == "max-age=86400"
    return mpegdash.MPEGDASHParser.parse(body.decode()), body.decode()


def xs_seconds(v):
    """Seconds of an `PT…H…M…S` xs:duration."""
    import re
    m = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", v)
    assert m, v
    h, mi, s = m.groups()
    return int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


def template_of(aset, rep):
    return (rep.segment_templates or aset.segment_templates)[0]


def segment_names(tpl, rep_id, period_secs):
    """The init name and every media segment name the template announces."""
    def expand(t, **v):
        t = t.replace("$RepresentationID$", rep_id)
        for k, x in v.items():
            t = t.replace(f"${k}$", str(x))
        return t
    names = []
    n = tpl.start_number if tpl.start_number is not None else 1
    if tpl.segment_timelines:
        t = 0
        for s in tpl.segment_timelines[0].Ss:
            if s.t is not None:
                t = s.t
            for _ in range((s.r or 0) + 1):
                names.append(expand(tpl.media, Number=n, Time=t))
                t += s.d
                n += 1
    else:
        # ISO/IEC 23009-1 §5.3.9.5.3: ceil(period duration / @duration) segments.
        count = math.ceil(round(period_secs * tpl.timescale / tpl.duration, 6))
        names = [expand(tpl.media, Number=n + k) for k in range(count)]
    return expand(tpl.initialization), names


def fetch_rendition(base, tpl, rep_id, period_secs, path):
    init, names = segment_names(tpl, rep_id, period_secs)
    with open(path, "wb") as out:
        st, h, body = get(f"{base}/{init}")
        assert st == 200, (init, body)
        assert body[4:8] == b"ftyp"
        out.write(body)
        for name in names:
            st, h, body = get(f"{base}/{name}")
            assert st == 200, (name, body)
            assert h["Content-Type"] in ("video/mp4", "audio/mp4")
            assert body[4:8] == b"moof" and b"mdat" in body
            out.write(body)
    return names


def ffprobe(path):
    import json
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
         "stream=codec_type,codec_name,width,height,nb_read_frames:format=duration", "-of", "json", path],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def decode_clean(path):
    p = subprocess.run(["ffmpeg", "-v", "error", "-xerror", "-i", path, "-map", "0", "-f", "null", "-"],
                       capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_format_and_layout_decodes(asset, fmt, layout, tmp_path):
    a, _ = asset
    url = endpoint(a, f"{fmt.lower()}-{layout.lower()}")["Url"]
    assert url.endswith("/index.mpd")
    base = url.rsplit("/", 1)[0]
    mpd, text = parse_mpd(url)
    assert mpd.type == "static"
    assert mpd.profiles == "urn:mpeg:dash:profile:isoff-live:2011"
    assert mpd.min_buffer_time == "PT10S"
    total = xs_seconds(mpd.media_presentation_duration)
    assert abs(total - SECONDS) < 0.1, total
    assert len(mpd.periods) == 1
    video, audio = mpd.periods[0].adaptation_sets
    assert (video.content_type, video.mime_type) == ("video", "video/mp4")
    assert (audio.content_type, audio.mime_type) == ("audio", "audio/mp4")
    assert video.segment_alignment and video.start_with_sap == 1
    sizes = [(r.width, r.height) for r in video.representations]
    assert sizes == [SIZES["lo"], SIZES["hi"]]
    for r in video.representations:
        assert r.codecs.startswith("avc1.") and r.frame_rate == "25" and r.bandwidth > 100_000
    assert video.representations[1].bandwidth > video.representations[0].bandwidth
    [ar] = audio.representations
    assert ar.codecs == "mp4a.40.2" and ar.audio_sampling_rate == "48000" and 64_000 < ar.bandwidth < 200_000
    assert [c.value for c in ar.audio_channel_configurations] == ["1"]
    # FULL: one template per Representation; COMPACT: hoisted to the AdaptationSet.
    if layout == "FULL":
        assert not video.segment_templates and all(r.segment_templates for r in video.representations)
    else:
        assert video.segment_templates and not any(r.segment_templates for r in video.representations)
    tpl = template_of(video, video.representations[0])
    if fmt == "NUMBER_WITH_DURATION":
        assert not tpl.segment_timelines and tpl.duration == 2 * tpl.timescale
    else:
        assert tpl.segment_timelines and tpl.duration is None
        assert ("$Time$" in tpl.media) == (fmt == "TIME_WITH_TIMELINE")
    # Every Representation, fetched as a player does, decodes: right stream, size, length.
    for aset, kind in ((video, "video"), (audio, "audio")):
        for r in aset.representations:
            path = str(tmp_path / f"{r.id}.mp4")
            names = fetch_rendition(base, template_of(aset, r), r.id, total, path)
            assert len(names) == 5, names
            info = ffprobe(path)
            [s] = info["streams"]
            assert s["codec_type"] == kind
            if kind == "video":
                assert (s["width"], s["height"]) == (r.width, r.height)
                assert int(s["nb_read_frames"]) == FRAMES
            assert abs(float(info["format"]["duration"]) - SECONDS) < 2.0, info
            decode_clean(path)
    if fmt == "NUMBER_WITH_TIMELINE":
        # ffmpeg's own DASH demuxer on the egress URL: three streams, every frame decodes.
        info = ffprobe(url)
        kinds = sorted(s["codec_type"] for s in info["streams"])
        assert kinds == ["audio", "video", "video"], info
        assert abs(float(info["format"]["duration"]) - SECONDS) < 2.0, info
        assert all(int(s["nb_read_frames"]) == FRAMES for s in info["streams"] if s["codec_type"] == "video")
        decode_clean(url)


def test_manifests_options_and_http(asset, tmp_path):
    a, _ = asset
    url = endpoint(a, "multi")["Url"]
    # The endpoint URL names the first manifest; each DashManifest has its own MPD.
    assert url.endswith("/all.mpd")
    base = url.rsplit("/", 1)[0]
    mpd, text = parse_mpd(url)
    video = mpd.periods[0].adaptation_sets[0]
    # VIDEO_BITRATE_DESCENDING; 4 s segments from 2 s GOPs: 4 + 4 + 2.
    assert [r.height for r in video.representations] == [720, 360]
    tpl = template_of(video, video.representations[0])
    durations = [(s.d, s.r or 0) for s in tpl.segment_timelines[0].Ss]
    assert durations == [(4 * tpl.timescale, 1), (2 * tpl.timescale, 0)], durations
    # Parameter sets in the segments: avc3 sample entries, and each segment decodes alone.
    assert all(r.codecs.startswith("avc3.") for r in video.representations)
    init, names = segment_names(tpl, video.representations[0].id, SECONDS)
    seg = get(f"{base}/{names[1]}")[2]
    mdat = seg.index(b"mdat") + 4
    assert seg[mdat + 4] & 0x1F == 7, "the segment's first NAL unit is an SPS"
    path = tmp_path / "second.mp4"
    path.write_bytes(get(f"{base}/{init}")[2] + seg)
    decode_clean(str(path))
    hbb, hbb_text = parse_mpd(f"{base}/hbbtv.mpd")
    assert hbb.profiles == "urn:hbbtv:dash:profile:isoff-live:2012,urn:mpeg:dash:profile:isoff-live:2011"
    assert hbb.min_buffer_time == "PT30S"
    hv = hbb.periods[0].adaptation_sets[0]
    assert [r.height for r in hv.representations] == [360] and hv.segment_templates
    # HEAD and ranges behave as for HLS.
    import urllib.request
    req = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(req) as r:
        assert r.status == 200 and r.read() == b"" and int(r.headers["Content-Length"]) == len(text)
    full = get(f"{base}/{names[0]}")[2]
    st, h, part = get(f"{base}/{names[0]}", {"Range": "bytes=4-7"})
    assert st == 206 and part == b"moof" and h["Content-Range"] == f"bytes 4-7/{len(full)}"
    # Unknown names are 404: manifests, segment numbers past the end, other packages' names.
    for bad in ("nope.mpd", "index.mpd", "v0.99.mp4", "v0.0.mp4", "v9.1.mp4", "v0.t0.mp4", "index.m3u8",
                "index.ism/Manifest", "v0.1.ts", "x"):
        assert get(f"{base}/{bad}")[0] == 404, bad
    # Encrypted DASH is not packaged in the clear: an explicit 501.
    st, _, body = get(endpoint(a, "enc")["Url"])
    assert st == 501 and b"encrypted DashPackage" in body


def test_dash_endpoints_are_playable(asset):
    a, _ = asset
    for cid in CONFIGS:
        want = "FAILED" if cid == "enc" else "PLAYABLE"
        assert endpoint(a, cid)["Status"] == want, (cid, a)
