"""IVS live over SRT, end to end with real clients: boto3 creates channels, ffmpeg (libsrt) publishes
MPEG-TS to `srt://<srt.endpoint>?streamid=<streamKey>&passphrase=<srt.passphrase>`, ffmpeg decodes the
channel's playbackUrl.

Covers: the advertised SRT endpoint, an encrypted publish going LIVE and playing, the stream session
(ingest configuration from the SPS and the ADTS header, events, end time), refusals at the handshake
(wrong or missing passphrase, unknown key, second publisher, a non-publish mode), the `#!::` stream id
form, insecure-ingest channels publishing unencrypted (and refusing encrypted callers), StopStream
disconnecting an SRT caller, and the SRT listener coming back after a handshake that srt-protocol
0.4.4 cannot take.
"""
import subprocess
import time

import pytest

from conftest import Reelay
from test_ivs_live import fetch, live_stream, publish as publish_any, segment_count, wait_for

FFMPEG_DEADLINE = 30


@pytest.fixture(scope="module")
def srt_server():
    with Reelay() as r:
        yield r


def srt_url(channel, stream_id, passphrase=None, pbkeylen=None):
    # ffmpeg passes the query values to libsrt as they are (no percent-decoding).
    url = f"srt://{channel['srt']['endpoint']}?streamid={stream_id}"
    if passphrase is not None:
        url += f"&passphrase={passphrase}"
    if pbkeylen is not None:
        url += f"&pbkeylen={pbkeylen}"
    return url












def publish(url, seconds):
    """The generated stream as MPEG-TS over SRT."""
    return publish_any(url, seconds, container="mpegts")


def refused(url):
    """Runs a publisher that must be refused at connect: it fails fast, with libsrt's reason."""
    start = time.monotonic()
    proc = publish(url, 5)
    rc = proc.wait(timeout=FFMPEG_DEADLINE)
    assert rc != 0
    assert time.monotonic() - start < 5
    return proc.stderr.read()


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_srt_endpoint_is_the_bound_listener(srt_server):
    ivs = srt_server.client("ivs")
    ch = ivs.create_channel(name="srt-endpoint")["channel"]
    assert srt_server.srt_url.startswith("srt://127.0.0.1:")
    assert ch["srt"]["endpoint"] == srt_server.srt_url.split("://", 1)[1]
    assert not ch["srt"]["endpoint"].endswith(":9000") and not ch["srt"]["endpoint"].endswith(":0")
    assert len(ch["srt"]["passphrase"]) == 64


def test_encrypted_publish_live_playable_then_ended(srt_server):
    ivs = srt_server.client("ivs")
    created = ivs.create_channel(name="srt-live", latencyMode="NORMAL")
    ch, key = created["channel"], created["streamKey"]["value"]
    passphrase = ivs.get_channel(arn=ch["arn"])["channel"]["srt"]["passphrase"]
    assert passphrase == ch["srt"]["passphrase"]

    # Refused at the handshake, before anything goes live.
    assert "passphrase" in refused(srt_url(ch, key, "wrong-passphrase-0123456789", 16)).lower()
    assert "password required" in refused(srt_url(ch, key)).lower()
    refused(srt_url(ch, "sk_us-east-1_" + "A" * 12 + "_" + "B" * 30, passphrase))
    refused(srt_url(ch, f"#!::r={key},m=request", passphrase))
    assert ivs.list_stream_sessions(channelArn=ch["arn"])["streamSessions"] == []

    proc = publish(srt_url(ch, key, passphrase, 16), 16)
    try:
        stream = wait_for(lambda: live_stream(ivs, ch["arn"]), what="LIVE")
        assert stream["state"] == "LIVE" and stream["health"] == "HEALTHY"

        # A second publisher (AES-256, access-control stream id) is refused; the first goes on.
        second = refused(srt_url(ch, f"#!::r={key},m=publish", passphrase, 32))
        assert "reject" in second.lower() or "error" in second.lower()
        assert live_stream(ivs, ch["arn"])["streamId"] == stream["streamId"]
        assert proc.poll() is None

        wait_for(lambda: segment_count(ch["playbackUrl"]) >= 1, what="a segment")
        status, master = fetch(ch["playbackUrl"])
        assert status == 200 and "RESOLUTION=320x240" in master and "mp4a.40.2" in master
        # Player-grade check: 10 s of the live stream decode with no complaint.
        play = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-i", ch["playbackUrl"], "-t", "10", "-f", "null", "-"],
            capture_output=True, text=True, timeout=FFMPEG_DEADLINE)
        assert play.returncode == 0 and play.stderr == "", play.stderr
    finally:
        proc.wait(timeout=FFMPEG_DEADLINE)
    assert proc.returncode == 0, proc.stderr.read()

    wait_for(lambda: live_stream(ivs, ch["arn"]) is None, what="OFFLINE")
    session = wait_for(lambda: (s := ivs.get_stream_session(channelArn=ch["arn"])["streamSession"])
                       and "endTime" in s and s, what="session end")
    assert session["streamId"] == stream["streamId"]
    assert session["endTime"] >= session["startTime"]
    names = [e["name"] for e in session["truncatedEvents"]]
    assert names[:2] == ["Session Ended", "Stream End"] and names[-2:] == ["Stream Start", "Session Created"]
    assert not [e for e in session["truncatedEvents"] if e["name"] == "Session Ended" and e.get("code")]
    video = session["ingestConfiguration"]["video"]
    # From the SPS: x264 ultrafast (constrained Baseline), level 1.3 at 320x240, VUI timing 25 fps.
    # SRT has no onMetaData, so no encoder name and no target bitrate.
    assert (video["codec"], video["avcProfile"], video["avcLevel"]) == ("avc1.42C00D", "Baseline", "1.3")
    assert (video["videoWidth"], video["videoHeight"], video["targetFramerate"]) == (320, 240, 25)
    assert "encoder" not in video and "targetBitrate" not in video
    audio = session["ingestConfiguration"]["audio"]
    assert (audio["codec"], audio["sampleRate"], audio["channels"]) == ("mp4a.40.2", 48000, 1)


def test_insecure_channel_and_stop_stream(srt_server):
    ivs = srt_server.client("ivs")
    created = ivs.create_channel(name="srt-insecure", latencyMode="LOW", insecureIngest=True)
    ch, key = created["channel"], created["streamKey"]["value"]
    assert "passphrase" not in ch["srt"]
    # Insecure channels take unencrypted callers.
    refused(srt_url(ch, key, "0123456789abcdef", 16))
    proc = publish(srt_url(ch, f"#!::r={key},m=publish"), 60)
    try:
        stream = wait_for(lambda: live_stream(ivs, ch["arn"]), what="LIVE")
        wait_for(lambda: segment_count(ch["playbackUrl"]) >= 1, what="a segment")
        ivs.stop_stream(channelArn=ch["arn"])
        assert proc.wait(timeout=15) != 0
        wait_for(lambda: live_stream(ivs, ch["arn"]) is None, what="OFFLINE")
        session = ivs.get_stream_session(channelArn=ch["arn"], streamId=stream["streamId"])["streamSession"]
        assert "endTime" in session
    finally:
        stop(proc)


def test_listener_recovers_from_an_encrypted_caller_without_key_length(srt_server):
    ivs = srt_server.client("ivs")
    created = ivs.create_channel(name="srt-recover", latencyMode="NORMAL", insecureIngest=True)
    ch, key = created["channel"], created["streamKey"]["value"]
    # A passphrase without pbkeylen on an insecure channel: srt-protocol's listener task panics.
    refused(srt_url(ch, key, "0123456789abcdef"))
    proc = publish(srt_url(ch, key), 4)
    try:
        wait_for(lambda: live_stream(ivs, ch["arn"]), what="LIVE after the listener came back")
    finally:
        proc.wait(timeout=FFMPEG_DEADLINE)
    assert any("srt listener ended" in line for line in srt_server.stderr_lines)
    # The listener came back; an encrypted caller that announces no key length publishes too.
    secure = ivs.create_channel(name="srt-recover-secure")
    proc = publish(srt_url(secure["channel"], secure["streamKey"]["value"], secure["channel"]["srt"]["passphrase"]), 3)
    try:
        wait_for(lambda: live_stream(ivs, secure["channel"]["arn"]), what="LIVE on an encrypted channel")
    finally:
        proc.wait(timeout=FFMPEG_DEADLINE)
    assert proc.returncode == 0, proc.stderr.read()
