"""IVS live, end to end with real clients: boto3 creates channels, ffmpeg publishes over RTMP to
`rtmp://<ingestEndpoint>/app/<streamKey>`, and ffmpeg/ffprobe play the channel's playbackUrl.

Covers: stream state while live (GetStream, ListStreams, stream sessions), HLS playback (decoded by
ffmpeg with no error output, h264 + aac seen by ffprobe), the end of a stream (EXT-X-ENDLIST,
ChannelNotBroadcasting, session end time, events, ingest configuration), refused publishers
(unknown key, deleted key, second publisher, garbage on the RTMP port), StopStream disconnecting
the publisher, and private-channel playback tokens.
"""
import base64
import json
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid

import botocore.exceptions
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

FFMPEG_DEADLINE = 30


def publish(url, seconds, container="flv"):
    """ffmpeg publishing a generated H.264 + AAC stream in real time (FLV for RTMP and RTMPS,
    `mpegts` for SRT)."""
    cmd = [
        "ffmpeg", "-nostdin", "-v", "error", "-re",
        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", str(seconds), "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast",
        "-g", "50", "-c:a", "aac", "-f", container, url,
    ]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def ingest_url(channel, key):
    return f"rtmp://{channel['ingestEndpoint']}/app/{key}"


def wait_for(cond, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def fetch(url, headers=None):
    """(status, body text) of a GET."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode("latin-1")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("latin-1")


def media_url(playback_url):
    return playback_url[: -len(".m3u8")] + "/source.m3u8"


def segment_count(playback_url, query=""):
    status, text = fetch(media_url(playback_url) + query)
    return text.count("#EXTINF") if status == 200 else 0


def live_stream(ivs, arn):
    try:
        return ivs.get_stream(channelArn=arn)["stream"]
    except botocore.exceptions.ClientError:
        return None


def error_code(call, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        call(**kw)
    return ei.value.response["Error"]["Code"]


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_normal_channel_live_to_ended(api_server):
    ivs = api_server.client("ivs")
    created = ivs.create_channel(name="live-normal", latencyMode="NORMAL")
    ch, key = created["channel"], created["streamKey"]["value"]
    assert ch["ingestEndpoint"] == api_server.rtmp_url.split("://", 1)[1]
    proc = publish(ingest_url(ch, key), 9)
    try:
        stream = wait_for(lambda: live_stream(ivs, ch["arn"]), what="LIVE")
        assert stream["state"] == "LIVE" and stream["health"] == "HEALTHY"
        assert stream["streamId"].startswith("st-") and len(stream["streamId"]) == 26
        assert stream["playbackUrl"] == ch["playbackUrl"]
        listed = ivs.list_streams()["streams"]
        assert [s["streamId"] for s in listed if s["channelArn"] == ch["arn"]] == [stream["streamId"]]
        sessions = ivs.list_stream_sessions(channelArn=ch["arn"])["streamSessions"]
        assert [s["streamId"] for s in sessions] == [stream["streamId"]]
        assert "endTime" not in sessions[0]

        wait_for(lambda: segment_count(ch["playbackUrl"]) >= 2, what="two segments")
        status, master = fetch(ch["playbackUrl"])
        assert status == 200 and master.startswith("#EXTM3U")
        assert 'CODECS="avc1.' in master and "mp4a.40.2" in master and "RESOLUTION=320x240" in master
        status, media = fetch(media_url(ch["playbackUrl"]))
        assert "#EXT-X-TARGETDURATION:2" in media and "#EXT-X-ENDLIST" not in media

        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", ch["playbackUrl"]],
            capture_output=True, text=True, timeout=FFMPEG_DEADLINE)
        assert probe.returncode == 0, probe.stderr
        assert sorted(set(probe.stdout.split())) == ["aac", "h264"]
        # Player-grade check: decode the live stream; any decoder complaint fails the test.
        play = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", ch["playbackUrl"], "-t", "4", "-f", "null", "-"],
                              capture_output=True, text=True, timeout=FFMPEG_DEADLINE)
        assert play.returncode == 0 and play.stderr == "", play.stderr
    finally:
        proc.wait(timeout=FFMPEG_DEADLINE)
    assert proc.returncode == 0, proc.stderr.read()

    wait_for(lambda: "#EXT-X-ENDLIST" in fetch(media_url(ch["playbackUrl"]))[1], what="ENDLIST")
    assert error_code(ivs.get_stream, channelArn=ch["arn"]) == "ChannelNotBroadcasting"
    assert not [s for s in ivs.list_streams()["streams"] if s["channelArn"] == ch["arn"]]
    # The ended stream still decodes end to end from its final playlist.
    full = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", ch["playbackUrl"], "-f", "null", "-"],
                          capture_output=True, text=True, timeout=FFMPEG_DEADLINE)
    assert full.returncode == 0 and full.stderr == "", full.stderr

    session = ivs.get_stream_session(channelArn=ch["arn"])["streamSession"]
    assert session["streamId"] == stream["streamId"]
    assert session["endTime"] >= session["startTime"]
    names = [e["name"] for e in session["truncatedEvents"]]
    assert names == ["Session Ended", "Stream End", "Stream Start", "Session Created"]
    video = session["ingestConfiguration"]["video"]
    assert video["codec"].startswith("avc1.") and video["avcProfile"] in ("High", "Main", "Baseline")
    assert (video["videoWidth"], video["videoHeight"], video["targetFramerate"]) == (320, 240, 25)
    assert video["encoder"].startswith("Lavf")
    audio = session["ingestConfiguration"]["audio"]
    assert (audio["codec"], audio["sampleRate"], audio["channels"]) == ("mp4a.40.2", 48000, 1)
    assert session["ingestConfigurations"]["videoConfigurations"] == [video]
    summary = ivs.list_stream_sessions(channelArn=ch["arn"])["streamSessions"][0]
    assert "endTime" in summary and summary["hasErrorEvent"] is False


def fetch_bytes(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read()


def test_low_latency_channel_serves_ll_hls(api_server):
    ivs = api_server.client("ivs")
    created = ivs.create_channel(name="live-low")  # latencyMode defaults to LOW
    ch, key = created["channel"], created["streamKey"]["value"]
    assert ch["latencyMode"] == "LOW"
    media = media_url(ch["playbackUrl"])
    base = media.rsplit("/", 1)[0]
    proc = publish(ingest_url(ch, key), 8)
    try:
        wait_for(lambda: segment_count(ch["playbackUrl"]) >= 1, what="a segment")
        status, text = fetch(media)
        assert status == 200
        assert "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=" in text
        assert "#EXT-X-PART-INF:PART-TARGET=0.200" in text
        assert "#EXT-X-PART:DURATION=" in text and "INDEPENDENT=YES" in text
        hint = re.search(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="source-(\d+)\.(\d+)\.ts"', text)
        prefetch = re.search(r"#EXT-X-PREFETCH:source-(\d+)\.ts", text)
        assert hint and prefetch, text
        msn, part = int(hint.group(1)), int(hint.group(2))
        assert int(prefetch.group(1)) == msn

        # The prefetched segment is streamed while it is written; read it concurrently.
        streamed = {}
        reader = threading.Thread(target=lambda: streamed.update(r=fetch_bytes(f"{base}/source-{msn}.ts")))
        reader.start()
        # Blocking playlist reload: held until the hinted part exists, then it is listed.
        start = time.monotonic()
        status, text = fetch(f"{media}?_HLS_msn={msn}&_HLS_part={part}")
        assert status == 200 and f'URI="source-{msn}.{part}.ts"' in text, text
        assert time.monotonic() - start < 6
        # The hinted part itself, then a part far ahead (refused as too far ahead).
        status, data = fetch_bytes(f"{base}/source-{msn}.{part}.ts")
        assert status == 200 and len(data) % 188 == 0 and data[:1] == b"\x47"
        assert fetch(f"{media}?_HLS_msn={msn + 10}")[0] == 400
        assert fetch(f"{media}?_HLS_part=1")[0] == 400
        reader.join(timeout=FFMPEG_DEADLINE)
        status, whole = streamed["r"]
        assert status == 200
        assert whole == fetch_bytes(f"{base}/source-{msn}.ts")[1]

        play = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", ch["playbackUrl"], "-t", "2", "-f", "null", "-"],
                              capture_output=True, text=True, timeout=FFMPEG_DEADLINE)
        assert play.returncode == 0 and play.stderr == "", play.stderr
    finally:
        proc.wait(timeout=FFMPEG_DEADLINE)
    wait_for(lambda: "#EXT-X-ENDLIST" in fetch(media)[1], what="ENDLIST")
    text = fetch(media)[1]
    assert "PRELOAD-HINT" not in text and "PREFETCH" not in text


def test_fragmented_mp4_channel(api_server):
    ivs = api_server.client("ivs")
    created = ivs.create_channel(name="live-fmp4", latencyMode="LOW", containerFormat="FRAGMENTED_MP4")
    ch, key = created["channel"], created["streamKey"]["value"]
    media = media_url(ch["playbackUrl"])
    base = media.rsplit("/", 1)[0]
    proc = publish(ingest_url(ch, key), 6)
    try:
        wait_for(lambda: segment_count(ch["playbackUrl"]) >= 1, what="a segment")
        text = fetch(media)[1]
        assert '#EXT-X-MAP:URI="init.mp4"' in text, text
        assert re.search(r'#EXT-X-PART:DURATION=[0-9.]+,URI="source-\d+\.\d+\.m4s"', text), text
        status, init = fetch_bytes(f"{base}/init.mp4")
        assert status == 200 and init[4:8] == b"ftyp"
        seg = re.search(r"^(source-\d+\.m4s)$", text, re.M).group(1)
        status, data = fetch_bytes(f"{base}/{seg}")
        assert status == 200 and data[4:8] == b"moof"
        assert fetch(f"{base}/{seg[:-4]}.ts")[0] == 404
        play = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", ch["playbackUrl"], "-t", "2", "-f", "null", "-"],
                              capture_output=True, text=True, timeout=FFMPEG_DEADLINE)
        assert play.returncode == 0 and play.stderr == "", play.stderr
    finally:
        proc.wait(timeout=FFMPEG_DEADLINE)
    wait_for(lambda: "#EXT-X-ENDLIST" in fetch(media)[1], what="ENDLIST")
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", ch["playbackUrl"]],
        capture_output=True, text=True, timeout=FFMPEG_DEADLINE)
    assert sorted(set(probe.stdout.split())) == ["aac", "h264"], probe.stderr
    full = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", ch["playbackUrl"], "-f", "null", "-"],
                          capture_output=True, text=True, timeout=FFMPEG_DEADLINE)
    assert full.returncode == 0 and full.stderr == "", full.stderr


def test_refused_publishers(api_server):
    ivs = api_server.client("ivs")
    created = ivs.create_channel(name="live-keys")
    ch, key = created["channel"], created["streamKey"]["value"]

    # Garbage on the RTMP port ends only that connection.
    host, port = ch["ingestEndpoint"].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"\xff" + b"garbage" * 500)
        assert s.recv(65536) == b""

    # An unknown key is refused at publish.
    start = time.monotonic()
    bad = publish(ingest_url(ch, "sk_us-east-1_" + "A" * 12 + "_" + "B" * 30), 5)
    assert bad.wait(timeout=FFMPEG_DEADLINE) != 0
    assert time.monotonic() - start < 5
    assert live_stream(ivs, ch["arn"]) is None

    # A deleted key is refused; its replacement works.
    key_arn = ivs.list_stream_keys(channelArn=ch["arn"])["streamKeys"][0]["arn"]
    ivs.delete_stream_key(arn=key_arn)
    old = publish(ingest_url(ch, key), 5)
    assert old.wait(timeout=FFMPEG_DEADLINE) != 0
    assert ivs.list_stream_sessions(channelArn=ch["arn"])["streamSessions"] == []
    new_key = ivs.create_stream_key(channelArn=ch["arn"])["streamKey"]["value"]
    ok = publish(ingest_url(ch, new_key), 2)
    assert ok.wait(timeout=FFMPEG_DEADLINE) == 0, ok.stderr.read()
    sessions = wait_for(lambda: [s for s in ivs.list_stream_sessions(channelArn=ch["arn"])["streamSessions"]
                                 if "endTime" in s], what="an ended session")
    assert len(sessions) == 1

    # A deleted channel's key is refused too.
    gone = ivs.create_channel(name="live-gone")
    ivs.delete_channel(arn=gone["channel"]["arn"])
    dead = publish(ingest_url(gone["channel"], gone["streamKey"]["value"]), 5)
    assert dead.wait(timeout=FFMPEG_DEADLINE) != 0


def test_second_publisher_refused_and_stop_stream_disconnects(api_server):
    ivs = api_server.client("ivs")
    created = ivs.create_channel(name="live-stop", latencyMode="NORMAL")
    ch, key = created["channel"], created["streamKey"]["value"]
    first = publish(ingest_url(ch, key), 60)
    try:
        stream = wait_for(lambda: live_stream(ivs, ch["arn"]), what="LIVE")
        second = publish(ingest_url(ch, key), 5)
        assert second.wait(timeout=FFMPEG_DEADLINE) != 0
        assert live_stream(ivs, ch["arn"])["streamId"] == stream["streamId"]
        assert first.poll() is None

        assert error_code(ivs.delete_channel, arn=ch["arn"]) == "ConflictException"
        ivs.stop_stream(channelArn=ch["arn"])
        first.wait(timeout=10)
        wait_for(lambda: live_stream(ivs, ch["arn"]) is None, what="OFFLINE")
        assert error_code(ivs.stop_stream, channelArn=ch["arn"]) == "ChannelNotBroadcasting"
        session = ivs.get_stream_session(channelArn=ch["arn"], streamId=stream["streamId"])["streamSession"]
        assert "endTime" in session
    finally:
        stop(first)


# --- Private channels ------------------------------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_token(private_key, claims):
    header = b64url(json.dumps({"alg": "ES384", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    der = private_key.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA384()))
    r, s = decode_dss_signature(der)
    return f"{header}.{payload}.{b64url(r.to_bytes(48, 'big') + s.to_bytes(48, 'big'))}"


def test_private_channel_tokens(api_server):
    ivs = api_server.client("ivs")
    private_key = ec.generate_private_key(ec.SECP384R1())
    pem = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    kp = ivs.import_playback_key_pair(publicKeyMaterial=pem, name="live-tokens")["keyPair"]
    created = ivs.create_channel(name="live-private", authorized=True, latencyMode="NORMAL")
    ch, key = created["channel"], created["streamKey"]["value"]
    url = ch["playbackUrl"]

    def token(**extra):
        claims = {"aws:channel-arn": ch["arn"], "exp": int(time.time()) + 300}
        claims.update(extra)
        return sign_token(private_key, claims)

    proc = publish(ingest_url(ch, key), 8)
    try:
        good = token()
        wait_for(lambda: segment_count(url, "?token=" + good) >= 1, what="a segment")
        assert fetch(url)[0] == 403
        assert "invalid_playback_auth_token" in fetch(url)[1]
        assert fetch(media_url(url))[0] == 403
        assert fetch(url + "?token=" + token(exp=int(time.time()) - 10))[0] == 403
        assert fetch(url + "?token=" + token(**{"aws:channel-arn": ch["arn"] + "x"}))[0] == 403
        stranger = ec.generate_private_key(ec.SECP384R1())
        assert fetch(url + "?token=" + sign_token(stranger, {"aws:channel-arn": ch["arn"],
                                                             "exp": int(time.time()) + 300}))[0] == 403
        assert fetch(url + "?token=not.a.token")[0] == 403

        status, master = fetch(url + "?token=" + good)
        assert status == 200 and "source.m3u8?token=" in master
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", url + "?token=" + good],
            capture_output=True, text=True, timeout=FFMPEG_DEADLINE)
        assert sorted(set(probe.stdout.split())) == ["aac", "h264"], probe.stderr

        once = token(**{"aws:single-use-uuid": str(uuid.uuid4())})
        assert fetch(url + "?token=" + once)[0] == 200
        status, text = fetch(url + "?token=" + once)
        assert status == 403 and "playback_auth_error" in text

        ivs.start_viewer_session_revocation(channelArn=ch["arn"], viewerId="bob", viewerSessionVersionsLessThanOrEqualTo=1)
        assert fetch(url + "?token=" + token(**{"aws:viewer-id": "bob"}))[0] == 403
        assert fetch(url + "?token=" + token(**{"aws:viewer-id": "bob", "aws:viewer-session-version": 2}))[0] == 200
        assert fetch(url + "?token=" + token(**{"aws:viewer-id": "carol"}))[0] == 200
        # Tokens naming a viewer may live at most 10 minutes.
        assert fetch(url + "?token=" + token(**{"aws:viewer-id": "carol", "exp": int(time.time()) + 3600}))[0] == 403

        origin = token(**{"aws:access-control-allow-origin": "https://good.example"})
        assert fetch(url + "?token=" + origin, {"Origin": "https://evil.example"})[0] == 403
        assert fetch(url + "?token=" + origin, {"Origin": "https://good.example"})[0] == 200
        strict = token(**{"aws:access-control-allow-origin": "https://good.example",
                          "aws:strict-origin-enforcement": True})
        assert fetch(media_url(url) + "?token=" + strict)[0] == 403
        assert fetch(media_url(url) + "?token=" + strict, {"Origin": "https://good.example"})[0] == 200

        # Deleting the key pair invalidates every token it signed.
        ivs.delete_playback_key_pair(arn=kp["arn"])
        assert fetch(url + "?token=" + good)[0] == 403
    finally:
        proc.wait(timeout=FFMPEG_DEADLINE)
