"""IVS recording to S3, end to end with real clients: boto3 creates a bucket on reelay's S3
endpoint, a recording configuration and a channel; ffmpeg publishes over RTMP; after the
stream, boto3 lists and downloads the recording and ffmpeg/ffprobe check what was written.

Covers: the key layout (`ivs/v1/<account>/<channel>/<y>/<m>/<d>/<h>/<mi>/<recording id>/`),
`master.m3u8` and `byte-range-multivariant.m3u8` decoding end to end with the published
duration, SEQUENTIAL and LATEST thumbnails (JPEG of the configured size, about one per
interval), the fields of `recording-started.json` / `recording-ended.json`, the reconnect
window (a session inside it continues the recording; one after it starts a new prefix), and the
`Recording Start` / `Recording End` events (`IVS Recording State Change`) in the IVS event log
bucket and in the sessions' `truncatedEvents`.
"""
import json
import os
import re
import subprocess
import uuid

from test_ivs_live import ingest_url, wait_for

PREFIX_RE = re.compile(
    r"^ivs/v1/(?P<account>\d{12})/(?P<channel>[A-Za-z0-9]+)/(?P<y>\d{4})/(?P<m>[1-9]\d?)/(?P<d>[1-9]\d?)/"
    r"(?P<h>\d{1,2})/(?P<mi>\d{1,2})/(?P<rid>[A-Za-z0-9]+)/"
)
RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def setup(server, window=0, interval=1):
    s3 = server.client("s3")
    ivs = server.client("ivs")
    bucket = "rec-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    rc = ivs.create_recording_configuration(
        name="rec",
        destinationConfiguration={"s3": {"bucketName": bucket}},
        recordingReconnectWindowSeconds=window,
        thumbnailConfiguration={
            "recordingMode": "INTERVAL",
            "targetIntervalSeconds": interval,
            "storage": ["SEQUENTIAL", "LATEST"],
            "resolution": "SD",
        },
    )["recordingConfiguration"]
    created = ivs.create_channel(name="rec-" + uuid.uuid4().hex[:6], recordingConfigurationArn=rc["arn"])
    return s3, ivs, bucket, created["channel"], created["streamKey"]["value"]


def recording_events(server, channel_arn):
    """The `IVS Recording State Change` events of a channel in the IVS event log, oldest first."""
    s3 = server.client("s3")
    bucket = f"reelay-ivs-events-{channel_arn.split(':')[4]}"
    try:
        names = keys(s3, bucket)
    except s3.exceptions.NoSuchBucket:
        return []
    events = [json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in sorted(names)]
    return [e for e in events
            if e["detail-type"] == "IVS Recording State Change" and e["resources"] == [channel_arn]]


def session_events(ivs, channel_arn, stream_id):
    s = ivs.get_stream_session(channelArn=channel_arn, streamId=stream_id)["streamSession"]
    return [(e["name"], e["type"]) for e in s["truncatedEvents"]]


def keys(s3, bucket):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


def run_publisher(url, seconds, gop=25):
    proc = publish_gop(url, seconds, gop)
    _, err = proc.communicate(timeout=seconds + 30)
    assert proc.returncode == 0, err


def publish_gop(url, seconds, gop):
    """test_ivs_live.publish with a keyframe every `gop` frames (25 fps)."""
    cmd = [
        "ffmpeg", "-nostdin", "-v", "error", "-re",
        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", str(seconds), "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast",
        "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-c:a", "aac", "-f", "flv", url,
    ]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def ended_prefixes(s3, bucket):
    return sorted(k[: -len("events/recording-ended.json")] for k in keys(s3, bucket)
                  if k.endswith("events/recording-ended.json"))


def download(s3, bucket, prefix, dest):
    for k in keys(s3, bucket):
        if k.startswith(prefix):
            path = os.path.join(dest, k[len(prefix):])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            s3.download_file(bucket, k, path)


def probe(path, entries="format=duration"):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", entries, "-of", "json", path],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def decode(path):
    """Decodes every frame of `path` (a playlist); returns (seconds decoded, stderr)."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:v", "-f", "null", "-"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return float(probe(path)["format"]["duration"]), out.stderr


def test_recording_layout_playback_thumbnails_and_metadata(server, tmp_path):
    s3, ivs, bucket, ch, key = setup(server, window=0, interval=1)
    run_publisher(ingest_url(ch, key), 8)
    prefixes = wait_for(lambda: ended_prefixes(s3, bucket), timeout=20, what="recording-ended.json")
    assert len(prefixes) == 1
    prefix = prefixes[0]
    all_keys = keys(s3, bucket)
    for k in all_keys:
        m = PREFIX_RE.match(k)
        assert m, k
        assert m["channel"] == ch["arn"].rsplit("/", 1)[1]
        assert ch["arn"].split(":")[4] == m["account"]
    assert {PREFIX_RE.match(k).group(0) for k in all_keys} == {prefix}

    download(s3, bucket, prefix, tmp_path)
    started = json.loads((tmp_path / "events/recording-started.json").read_text())
    ended = json.loads((tmp_path / "events/recording-ended.json").read_text())
    assert started["version"] == "v1" and ended["version"] == "v1"
    assert started["channel_arn"] == ended["channel_arn"] == ch["arn"]
    assert started["recording_status"] == "RECORDING_STARTED"
    assert ended["recording_status"] == "RECORDING_ENDED", ended
    assert RFC3339_RE.match(started["recording_started_at"])
    assert RFC3339_RE.match(ended["recording_ended_at"])
    assert ended["recording_ended_at"] >= ended["recording_started_at"]
    hls = ended["media"]["hls"]
    assert hls["path"] == "media/hls" and hls["playlist"] == "master.m3u8"
    assert hls["byte_range_playlist"] == "byte-range-multivariant.m3u8"
    assert 6500 <= hls["duration_ms"] <= 9500, hls
    [rendition] = hls["renditions"]
    assert (rendition["resolution_width"], rendition["resolution_height"]) == (320, 240)
    assert rendition["playlist"] == "playlist.m3u8"
    assert rendition["byte_range_playlist"] == "byte-range-variant.m3u8"

    # The recorded playlists decode end to end with about the published duration.
    seconds, _ = decode(str(tmp_path / hls["path"] / hls["playlist"]))
    assert 6.5 <= seconds <= 9.5, seconds
    br_seconds, _ = decode(str(tmp_path / hls["path"] / hls["byte_range_playlist"]))
    assert abs(br_seconds - seconds) < 0.5, (br_seconds, seconds)
    media = (tmp_path / hls["path"] / rendition["path"] / rendition["playlist"]).read_text()
    assert "#EXT-X-ENDLIST" in media and "#EXT-X-PLAYLIST-TYPE:VOD" in media
    byte_range = (tmp_path / hls["path"] / rendition["path"] / rendition["byte_range_playlist"]).read_text()
    assert "#EXT-X-BYTERANGE:" in byte_range and "#EXT-X-ENDLIST" in byte_range
    master = (tmp_path / hls["path"] / hls["playlist"]).read_text()
    assert 'CODECS="avc1.' in master and "RESOLUTION=320x240" in master
    streams = probe(str(tmp_path / hls["path"] / hls["playlist"]), "stream=codec_name")["streams"]
    assert {s["codec_name"] for s in streams} >= {"h264", "aac"}

    # Thumbnails: about one per interval, each a JPEG of the size the metadata announces.
    thumbs = ended["media"]["thumbnails"]
    [trend] = thumbs["renditions"]
    assert (thumbs["resolution_width"], thumbs["resolution_height"]) == (320, 240)
    seq_dir = tmp_path / thumbs["path"] / trend["path"]
    names = sorted(os.listdir(seq_dir), key=lambda n: int(re.match(r"thumb(\d+)\.jpg$", n).group(1)))
    assert names[0] == "thumb0.jpg" and names[-1] == f"thumb{len(names) - 1}.jpg"
    assert seconds - 3 <= len(names) <= seconds + 1, (names, seconds)
    latest = ended["media"]["latest_thumbnail"]
    latest_file = tmp_path / latest["path"] / latest["renditions"][0]["path"] / "thumb.jpg"
    for path in [*(seq_dir / n for n in names), latest_file]:
        [s] = probe(str(path), "stream=codec_name,width,height")["streams"]
        assert (s["codec_name"], s["width"], s["height"]) == ("mjpeg", 320, 240), path

    # Recording Start and Recording End in the event log, naming this bucket and prefix.
    events = wait_for(lambda: (lambda ev: ev if len(ev) >= 2 else None)(recording_events(server, ch["arn"])),
                      timeout=10, what="recording events")
    assert [e["detail"]["recording_status"] for e in events] == ["Recording Start", "Recording End"], events
    [session] = ivs.list_stream_sessions(channelArn=ch["arn"])["streamSessions"]
    for e in events:
        d = e["detail"]
        assert e["source"] == "aws.ivs" and e["account"] == ch["arn"].split(":")[4]
        assert d["recording_s3_bucket_name"] == bucket
        assert d["recording_s3_key_prefix"] + "/" == prefix
        assert d["recording_session_id"] == prefix.rstrip("/").rsplit("/", 1)[1]
        assert d["channel_name"] == ch["name"] and d["stream_id"] == session["streamId"]
        assert d["recording_status_reason"] == ""
    end = events[1]["detail"]
    assert end["recording_session_stream_ids"] == [session["streamId"]]
    assert abs(end["recording_duration_ms"] - hls["duration_ms"]) <= 1, (end, hls)
    # The session lists them too, newest first, after its own end (window 0: the recording ends
    # right after the session).
    names = session_events(ivs, ch["arn"], session["streamId"])
    assert ("Recording Start", "IVS Recording State Change") in names
    assert names[0] == ("Recording End", "IVS Recording State Change"), names
    assert names.index(("Recording Start", "IVS Recording State Change")) < \
        names.index(("Stream Start", "IVS Stream State Change")), names
    assert not session["hasErrorEvent"]


def test_reconnect_inside_the_window_continues_the_recording(server, tmp_path):
    s3, ivs, bucket, ch, key = setup(server, window=4, interval=2)
    url = ingest_url(ch, key)
    run_publisher(url, 3)
    # The second session starts well inside the 4 s window.
    run_publisher(url, 3)
    prefixes = wait_for(lambda: ended_prefixes(s3, bucket), timeout=20, what="recording-ended.json")
    assert len(prefixes) == 1, prefixes
    started = [k for k in keys(s3, bucket) if k.endswith("events/recording-started.json")]
    assert len(started) == 1, started
    prefix = prefixes[0]
    download(s3, bucket, prefix, tmp_path)
    ended = json.loads((tmp_path / "events/recording-ended.json").read_text())
    assert ended["recording_status"] == "RECORDING_ENDED"
    hls = ended["media"]["hls"]
    rendition = hls["renditions"][0]
    media = (tmp_path / hls["path"] / rendition["path"] / rendition["playlist"]).read_text()
    assert media.count("#EXT-X-DISCONTINUITY\n") == 1, media
    seconds, _ = decode(str(tmp_path / hls["path"] / hls["playlist"]))
    assert 4.5 <= seconds <= 7.5, seconds

    # One Recording Start (first session) and one Recording End (second session) for the two.
    events = wait_for(lambda: (lambda ev: ev if len(ev) >= 2 else None)(recording_events(server, ch["arn"])),
                      timeout=10, what="recording events")
    assert [e["detail"]["recording_status"] for e in events] == ["Recording Start", "Recording End"], events
    sessions = sorted(ivs.list_stream_sessions(channelArn=ch["arn"])["streamSessions"],
                      key=lambda x: x["startTime"])
    ids = [x["streamId"] for x in sessions]
    assert events[0]["detail"]["stream_id"] == ids[0] and events[1]["detail"]["stream_id"] == ids[1]
    assert events[1]["detail"]["recording_session_stream_ids"] == ids
    assert all(e["detail"]["recording_s3_key_prefix"] + "/" == prefix for e in events)
    assert [n for n, _ in session_events(ivs, ch["arn"], ids[0]) if n.startswith("Recording")] == \
        ["Recording Start"]
    assert [n for n, _ in session_events(ivs, ch["arn"], ids[1]) if n.startswith("Recording")] == \
        ["Recording End"]

    # After the window, a new session records under a new prefix.
    run_publisher(url, 2)
    later = wait_for(lambda: [p for p in ended_prefixes(s3, bucket) if p != prefix], timeout=20,
                     what="a second recording")
    assert len(later) == 1 and PREFIX_RE.match(later[0])
