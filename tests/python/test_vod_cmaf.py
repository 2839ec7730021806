"""MediaPackage VOD packaging engine: just-in-time CMAF (fMP4 segments, HLS manifests).

Reuses the sources and helpers of test_vod_packaging: an .mp4 (H.264 with B-frames + AAC) is
ingested, and the CmafPackage egress URL is checked by reading the playlists and with ffprobe /
ffmpeg.
"""
import re

from test_vod_packaging import (  # noqa: F401  (media is a fixture)
    FRAMES, create_asset, decode, endpoint, get, media, probe, pytestmark, reset, setup, wait_final,
)


def cmaf(seg=2, **manifest):
    m = {"ManifestName": "index"}
    m.update(manifest)
    return {"CmafPackage": {"SegmentDurationSeconds": seg, "HlsManifests": [m]}}


def test_mp4_to_cmaf_end_to_end(api_server, media):
    reset(api_server)
    c = setup(api_server, media, {
        "cmaf": cmaf(2, IncludeIframeOnlyStream=True),
        "enc": {"CmafPackage": {"HlsManifests": [{"ManifestName": "index"}], "Encryption": {
            "SpekeKeyProvider": {"RoleArn": "arn:aws:iam::000000000000:role/x", "SystemIds": [
                "94ce86fb-07ff-4f43-adb8-93d2fa968ca2"], "Url": "https://keys.example/speke"}}}},
    })
    create_asset(c, "c1", "lo.mp4")
    a = wait_final(c, "c1")
    ep = endpoint(a, "cmaf")
    assert ep["Status"] == "PLAYABLE"
    # Encrypted CMAF is still not packaged: FAILED, and its URL answers 501.
    assert endpoint(a, "enc")["Status"] == "FAILED"
    assert get(endpoint(a, "enc")["Url"])[0] == 501
    url = ep["Url"]
    assert url.endswith("/index.m3u8")
    status, headers, body = get(url)
    assert status == 200 and headers["Content-Type"] == "application/vnd.apple.mpegurl"
    text = body.decode()
    # Audio is its own rendition group; the variant references it; no I-frame playlist for CMAF.
    audio = re.search(r'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio".*URI="([^"]+)"', text)
    assert audio, text
    variants = re.findall(r"#EXT-X-STREAM-INF:([^\n]*)\n([^\n]+)", text)
    assert len(variants) == 1
    attrs, child = variants[0]
    assert 'AUDIO="audio"' in attrs and 'CODECS="avc1.' in attrs and "mp4a.40.2" in attrs
    assert "RESOLUTION=320x240" in attrs
    assert "I-FRAME" not in text
    base = url.rsplit("/", 1)[0]
    for pl_name, kind, ctype in ((child, "video", "video/mp4"), (audio.group(1), "audio", "audio/mp4")):
        pl = get(f"{base}/{pl_name}")[2].decode()
        init = re.findall(r'#EXT-X-MAP:URI="([^"]+)"', pl)
        assert len(init) == 1, pl
        assert "#EXT-X-VERSION:6" in pl and "#EXT-X-ENDLIST" in pl
        segs = re.findall(r"#EXTINF:([0-9.]+),\n([^\n]+)", pl)
        assert len(segs) == 3 and all(abs(float(d) - 2.0) < 0.05 for d, _ in segs), pl
        st, h, init_bytes = get(f"{base}/{init[0]}")
        assert st == 200 and h["Content-Type"] == ctype
        assert init_bytes[4:8] == b"ftyp" and b"moov" in init_bytes and b"mvex" in init_bytes
        st, h, seg = get(f"{base}/{segs[0][1]}")
        assert st == 200 and h["Content-Type"] == ctype
        assert seg[4:8] == b"moof" and b"mdat" in seg and b"tfdt" in seg
        # Each rendition decodes alone: one stream of the right kind.
        info = probe(f"{base}/{pl_name}")
        assert [s["codec_type"] for s in info["streams"]] == [kind]
    # Real clients on the multivariant playlist: H.264 + AAC for 6 s, every frame decodes.
    info = probe(url)
    kinds = sorted((s["codec_type"], s["codec_name"]) for s in info["streams"])
    assert kinds == [("audio", "aac"), ("video", "h264")]
    assert abs(float(info["format"]["duration"]) - 6.0) < 0.5
    err, frames = decode(url)
    assert err == ""
    assert frames == FRAMES
    # TS names, unknown segments and manifests are 404.
    assert get(f"{base}/v0.1.ts")[0] == 404
    assert get(f"{base}/v0.99.mp4")[0] == 404
    assert get(f"{base}/a0.init.mp4")[0] == 404
    assert get(f"{base}/index.v0.iframe.m3u8")[0] == 404
    assert get(f"{base}/nope.m3u8")[0] == 404


def test_cmaf_smil_stream_selection(api_server, media):
    reset(api_server)
    c = setup(api_server, media, {"cmaf": {"CmafPackage": {"SegmentDurationSeconds": 6, "HlsManifests": [
        {"ManifestName": "desc", "StreamSelection": {"StreamOrder": "VIDEO_BITRATE_DESCENDING"}},
        {"ManifestName": "low", "StreamSelection": {"MaxVideoBitsPerSecond": 1}},
    ]}}})
    create_asset(c, "two", "two.smil")
    a = wait_final(c, "two")
    ep = endpoint(a, "cmaf")
    assert ep["Status"] == "PLAYABLE"
    url = ep["Url"]
    base = url.rsplit("/", 1)[0]
    desc = get(url)[2].decode()
    assert re.findall(r"#EXT-X-STREAM-INF:.*RESOLUTION=(\d+x\d+)", desc) == ["640x360", "320x240"]
    # The same audio muxed in both sources is one audio rendition.
    assert desc.count("#EXT-X-MEDIA:TYPE=AUDIO") == 1
    assert "#EXT-X-STREAM-INF" not in get(f"{base}/low.m3u8")[2].decode()
    child = re.findall(r"#EXT-X-STREAM-INF:[^\n]*\n([^\n]+)", desc)[0]
    pl = get(f"{base}/{child}")[2].decode()
    assert "#EXT-X-TARGETDURATION:6" in pl and pl.count("#EXTINF") == 1 and "#EXT-X-MAP" in pl
    info = probe(f"{base}/{child}")
    assert [(s["codec_type"], s["width"]) for s in info["streams"]] == [("video", 640)]
    err, frames = decode(f"{base}/{child}")
    assert err == "" and frames == FRAMES
