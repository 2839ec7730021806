"""IVS live stream state, end to end with real clients (boto3, ffmpeg publishers, ffprobe, a
hand-made Enhanced RTMP multitrack publisher, S3 for the event log):

- PutMetadata inserted as ID3 (TXXX) into MPEG-TS segments (a `timed_id3` stream ffprobe reads)
  and as `emsg` boxes into fMP4 segments; its limits (1 KiB → 400, 6th call in a second → 429);
- viewer counts and starvation health in GetStream/ListStreams, Starvation Start/End session
  events, and the same events in the IVS event log;
- playback restriction policies (origins, strict origins, countries through the geo hook) and
  the `aws:maximum-resolution` token claim;
- the channel's multitrack input policy against single-track and multitrack publishers, and
  the track count and track media properties its `maximumResolution` allows.
"""
import json
import os
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import botocore.exceptions
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import Reelay
from test_ivs_live import (FFMPEG_DEADLINE, error_code, fetch, ingest_url, live_stream, media_url, publish,
                           segment_count, sign_token, stop, wait_for)

STATE_ENV = {"REELAY_LIVE_STARVATION_MS": "1500", "REELAY_LIVE_VIEWER_WINDOW_MS": "4000"}


@pytest.fixture(scope="module")
def live_server():
    with Reelay(env=STATE_ENV) as r:
        yield r


def publish_sized(url, seconds, size, rate=25):
    cmd = [
        "ffmpeg", "-nostdin", "-v", "error", "-re",
        "-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", str(seconds), "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast",
        "-g", str(rate * 2), "-c:a", "aac", "-f", "flv", url,
    ]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def fetch_bytes(url, headers=None):
    import urllib.request
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read()


def segment_urls(playback_url):
    status, text = fetch(media_url(playback_url))
    if status != 200:
        return []
    base = media_url(playback_url).rsplit("/", 1)[0]
    return [f"{base}/{line}" for line in text.splitlines() if line and not line.startswith("#")]


def find_segment_with(playback_url, needle):
    for url in reversed(segment_urls(playback_url)):
        data = fetch_bytes(url)
        if needle in data:
            return url, data
    return None


def hexdump_bytes(text):
    """The bytes of an ffprobe -show_data hex dump ("00000000: 4944 3304 ...  ID3.")."""
    out = bytearray()
    for line in text.splitlines():
        if ":" not in line:
            continue
        groups = line.split(":", 1)[1].strip().split("  ")[0]
        out += bytes.fromhex(groups.replace(" ", ""))
    return bytes(out)


# --- Timed metadata -----------------------------------------------------------------------------

def test_put_metadata_is_inserted_as_id3_and_emsg(live_server):
    ivs = live_server.client("ivs")
    ts = ivs.create_channel(name="meta-ts", latencyMode="NORMAL")
    fm = ivs.create_channel(name="meta-fmp4", latencyMode="NORMAL", containerFormat="FRAGMENTED_MP4")
    procs = [publish(ingest_url(c["channel"], c["streamKey"]["value"]), 14) for c in (ts, fm)]
    try:
        for c in (ts, fm):
            url = c["channel"]["playbackUrl"]
            wait_for(lambda: segment_count(url) >= 1, what="a segment")
        ts_arn, fm_arn = ts["channel"]["arn"], fm["channel"]["arn"]
        ivs.put_metadata(channelArn=ts_arn, metadata="reelay-id3-payload")
        ivs.put_metadata(channelArn=fm_arn, metadata="reelay-emsg-payload")

        # MPEG-TS: a later segment carries an ID3 stream (stream_type 0x15) with the TXXX frame.
        url, data = wait_for(lambda: find_segment_with(ts["channel"]["playbackUrl"], b"reelay-id3-payload"),
                             timeout=10, what="the ID3 tag in a TS segment")
        with tempfile.NamedTemporaryFile(suffix=".ts") as f:
            f.write(data)
            f.flush()
            probe = subprocess.run(
                ["ffprobe", "-v", "error", "-show_streams", "-show_packets", "-show_data", "-of", "json", f.name],
                capture_output=True, text=True, timeout=FFMPEG_DEADLINE)
        assert probe.returncode == 0, probe.stderr
        info = json.loads(probe.stdout)
        id3 = [s for s in info["streams"] if s.get("codec_name") == "timed_id3"]
        assert len(id3) == 1, info["streams"]
        packets = [p for p in info["packets"] if p["stream_index"] == id3[0]["index"]]
        assert packets, "no packet on the ID3 stream"
        # ffmpeg 5.1 reads a stream_type 0x15 PES as ISO/IEC 13818-1 metadata AU cells and drops
        # the first 5 bytes as a cell header; Apple's HLS timed metadata (what players read) has
        # the ID3 tag right after the PES header, which the raw bytes below show.
        assert hexdump_bytes(packets[0]["data"]).endswith(b"TXXX\x00\x00\x00\x14\x00\x00\x03\x00reelay-id3-payload")
        pes = data.index(b"\x00\x00\x01\xbd")
        assert data[pes + 14:pes + 18] == b"ID3\x04", data[pes:pes + 30]

        # fMP4: an emsg v1 box (AOM ID3 scheme) with the ID3 tag, before a moof.
        url, data = wait_for(lambda: find_segment_with(fm["channel"]["playbackUrl"], b"reelay-emsg-payload"),
                             timeout=10, what="the emsg in an fMP4 segment")
        at = data.index(b"emsg") - 4
        size = struct.unpack(">I", data[at:at + 4])[0]
        box = data[at:at + size]
        assert box[8] == 1, "emsg version 1"
        assert struct.unpack(">I", box[12:16])[0] == 90000
        assert box[32:].startswith(b"https://aomedia.org/emsg/ID3\x00\x00ID3\x04")
        assert box.endswith(b"\x00reelay-emsg-payload")
        assert data[at + size + 4:at + size + 8] == b"moof"

        # Limits: 1 KiB payload, 5 calls per second and channel.
        with pytest.raises(botocore.exceptions.ClientError) as ei:
            ivs.put_metadata(channelArn=ts_arn, metadata="x" * 1025)
        assert ei.value.response["Error"]["Code"] == "ValidationException"
        time.sleep(1.1)  # let the window of the call above pass: the burst below starts empty
        codes = []
        for i in range(6):
            try:
                ivs.put_metadata(channelArn=ts_arn, metadata=f"burst-{i}")
                codes.append(204)
            except botocore.exceptions.ClientError as e:
                codes.append(e.response["ResponseMetadata"]["HTTPStatusCode"])
                assert e.response["Error"]["Code"] == "ThrottlingException"
        assert codes == [204] * 5 + [429], codes
        # Another channel has its own budget.
        ivs.put_metadata(channelArn=fm_arn, metadata="other-channel")
    finally:
        for p in procs:
            stop(p)


# --- Viewers, starvation, event log -------------------------------------------------------------

def read_events(server, account, stream_id):
    s3 = server.client("s3")
    bucket = f"reelay-ivs-events-{account}"
    try:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="us-east-1/").get("Contents", [])]
    except botocore.exceptions.ClientError:
        return []
    events = [json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in sorted(keys)]
    return [e for e in events if e["detail"]["stream_id"] == stream_id]


def test_viewer_count_starvation_and_event_log(live_server):
    ivs = live_server.client("ivs")
    created = ivs.create_channel(name="state", latencyMode="NORMAL")
    ch, key = created["channel"], created["streamKey"]["value"]
    url = ch["playbackUrl"]
    proc = publish(ingest_url(ch, key), 30)
    try:
        wait_for(lambda: segment_count(url) >= 1, what="a segment")
        assert live_stream(ivs, ch["arn"])["health"] == "HEALTHY"
        # The playlist poll above (urllib's User-Agent) is one viewer; two more User-Agents on
        # the same address are two more.
        wait_for(lambda: live_stream(ivs, ch["arn"])["viewerCount"] == 1, timeout=5, what="1 viewer")
        for agent in ("viewer-a", "viewer-b"):
            assert fetch(url, {"User-Agent": agent})[0] == 200
            assert fetch(media_url(url), {"User-Agent": agent})[0] == 200
        wait_for(lambda: live_stream(ivs, ch["arn"])["viewerCount"] == 3, timeout=5, what="3 viewers")
        listed = [s for s in ivs.list_streams()["streams"] if s["channelArn"] == ch["arn"]]
        assert listed[0]["viewerCount"] == 3
        # They stop polling: they leave after the 4 s window.
        wait_for(lambda: live_stream(ivs, ch["arn"])["viewerCount"] == 0, timeout=8, what="viewers gone")

        # The publisher stalls (SIGSTOP): starving, then healthy again once media flows.
        proc.send_signal(signal.SIGSTOP)
        try:
            wait_for(lambda: live_stream(ivs, ch["arn"])["health"] == "STARVING", timeout=6, what="STARVING")
            starving = ivs.list_streams(filterBy={"health": "STARVING"})["streams"]
            assert [s["channelArn"] for s in starving] == [ch["arn"]]
        finally:
            proc.send_signal(signal.SIGCONT)
        wait_for(lambda: live_stream(ivs, ch["arn"])["health"] == "HEALTHY", timeout=6, what="HEALTHY again")
    finally:
        stop(proc)
    wait_for(lambda: live_stream(ivs, ch["arn"]) is None, what="offline")
    session = ivs.get_stream_session(channelArn=ch["arn"])["streamSession"]
    events = [(e["name"], e["type"]) for e in session["truncatedEvents"]]
    assert events[-2:] == [("Stream Start", "IVS Stream State Change"), ("Session Created", "IVS Stream State Change")]
    assert ("Starvation Start", "IVS Stream Health Change") in events
    assert ("Starvation End", "IVS Stream Health Change") in events
    assert events.index(("Starvation End", "IVS Stream Health Change")) < \
        events.index(("Starvation Start", "IVS Stream Health Change"))
    assert [n for n, _ in events[:2]] == ["Session Ended", "Stream End"]

    # The same events, oldest first, in the event log (EventBridge-shaped, on the S3 endpoint).
    account = ch["arn"].split(":")[4]
    want = [n for n, _ in reversed(events)]
    logged = wait_for(lambda: (lambda ev: ev if [e["detail"]["event_name"] for e in ev] == want else None)(
        read_events(live_server, account, session["streamId"])), timeout=5, what="the event log")
    first = logged[0]
    assert first["source"] == "aws.ivs" and first["detail-type"] == "IVS Stream State Change"
    assert first["resources"] == [ch["arn"]] and first["account"] == account and first["region"] == "us-east-1"
    assert first["detail"]["channel_name"] == "state"
    assert {e["detail-type"] for e in logged if e["detail"]["event_name"].startswith("Starvation")} == \
        {"IVS Stream Health Change"}


# --- Playback restriction policies and maximum resolution ---------------------------------------

def test_restriction_policies_and_maximum_resolution(live_server):
    ivs = live_server.client("ivs")
    loose = ivs.create_playback_restriction_policy(
        allowedOrigins=["https://good.example"])["playbackRestrictionPolicy"]
    strict = ivs.create_playback_restriction_policy(
        allowedOrigins=["https://*.good.example"], enableStrictOriginEnforcement=True)["playbackRestrictionPolicy"]
    a = ivs.create_channel(name="prp-loose", latencyMode="NORMAL", playbackRestrictionPolicyArn=loose["arn"])
    private_key = ec.generate_private_key(ec.SECP384R1())
    pem = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    ivs.import_playback_key_pair(publicKeyMaterial=pem, name="prp-keys")
    b = ivs.create_channel(name="prp-strict", latencyMode="NORMAL", authorized=True,
                           playbackRestrictionPolicyArn=strict["arn"])
    a_url, b_url = a["channel"]["playbackUrl"], b["channel"]["playbackUrl"]
    procs = [publish(ingest_url(a["channel"], a["streamKey"]["value"]), 12),
             # Short side 520: above SD (480), within HD (720).
             publish_sized(ingest_url(b["channel"], b["streamKey"]["value"]), 12, "640x520", rate=10)]

    def token(**extra):
        claims = {"aws:channel-arn": b["channel"]["arn"], "exp": int(time.time()) + 300}
        claims.update(extra)
        return "?token=" + sign_token(private_key, claims)

    good = {"Origin": "https://good.example"}
    try:
        wait_for(lambda: segment_count(a_url) >= 1, what="a segment on A")
        # A: origins checked on the multivariant playlist only.
        assert fetch(a_url) == (403, "playback_auth_error")
        assert fetch(a_url, {"Origin": "https://evil.example"})[0] == 403
        assert fetch(a_url, good)[0] == 200
        assert fetch(media_url(a_url))[0] == 200

        wait_for(lambda: fetch(b_url + token(), {"Origin": "https://www.good.example"})[0] == 200,
                 what="B playable")
        sub = {"Origin": "https://www.good.example"}
        # B: strict origins apply to every request, beside the token.
        assert fetch(media_url(b_url) + token())[0] == 403
        assert fetch(media_url(b_url) + token(), {"Origin": "https://good.example.evil"})[0] == 403
        assert fetch(media_url(b_url) + token(), sub)[0] == 200
        assert fetch(b_url, sub)[0] == 403
        # aws:maximum-resolution: the only rendition (520 lines) is above SD, within HD.
        assert fetch(b_url + token(**{"aws:maximum-resolution": "SD"}), sub) == (403, "invalid_playback_auth_token")
        assert fetch(b_url + token(**{"aws:maximum-resolution": "HD"}), sub)[0] == 200
        assert fetch(b_url + token(**{"aws:maximum-resolution": "FULL_HD"}), sub)[0] == 200
        assert fetch(b_url + token(**{"aws:maximum-resolution": "8K"}), sub)[0] == 403
    finally:
        for p in procs:
            stop(p)


def test_allowed_countries_through_the_geo_hook(live_server):
    # By default loopback is a local address, allowed whatever the countries; mapped to France
    # (REELAY_GEO_COUNTRIES), a policy allowing only Germany refuses it.
    local = live_server.client("ivs")
    with Reelay(env={"REELAY_GEO_COUNTRIES": "127.0.0.1=FR,::1=FR"}) as srv:
        ivs = srv.client("ivs")
        de = ivs.create_playback_restriction_policy(allowedCountries=["DE"])["playbackRestrictionPolicy"]
        de_local = local.create_playback_restriction_policy(allowedCountries=["DE"])["playbackRestrictionPolicy"]
        c1 = ivs.create_channel(name="geo-de", latencyMode="NORMAL", playbackRestrictionPolicyArn=de["arn"])
        c2 = local.create_channel(name="geo-local", latencyMode="NORMAL", playbackRestrictionPolicyArn=de_local["arn"])
        procs = [publish(ingest_url(c["channel"], c["streamKey"]["value"]), 8) for c in (c1, c2)]
        try:
            wait_for(lambda: segment_count(c2["channel"]["playbackUrl"]) >= 1, what="a segment")
            assert fetch(c2["channel"]["playbackUrl"])[0] == 200
            wait_for(lambda: live_stream(ivs, c1["channel"]["arn"]), what="c1 live")
            assert fetch(c1["channel"]["playbackUrl"]) == (403, "playback_auth_error")
            assert fetch(media_url(c1["channel"]["playbackUrl"]))[0] == 403
        finally:
            for p in procs:
                stop(p)


# --- Multitrack input policy --------------------------------------------------------------------

def flv_tags(path):
    """(type, timestamp ms, body) of each tag of an FLV file."""
    data = open(path, "rb").read()
    assert data[:3] == b"FLV"
    pos = struct.unpack(">I", data[5:9])[0] + 4
    tags = []
    while pos + 11 <= len(data):
        kind = data[pos]
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        ts = int.from_bytes(data[pos + 4:pos + 7], "big") | (data[pos + 7] << 24)
        tags.append((kind, ts, data[pos + 11:pos + 11 + size]))
        pos += 11 + size + 4
    return tags


def amf_string(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_number(n):
    return b"\x00" + struct.pack(">d", n)


def amf_object(d):
    out = b"\x03"
    for k, v in d.items():
        kb = k.encode()
        out += struct.pack(">H", len(kb)) + kb + amf_string(v)
    return out + b"\x00\x00\x09"


def multitrack_video(body, tracks):
    """A legacy AVC video tag body re-wrapped as an Enhanced RTMP multitrack tag (ManyTracks,
    one FourCC) repeating the same media on `tracks` track ids; None for tags to skip."""
    frame_type, pkt = body[0] >> 4, body[1]
    if pkt not in (0, 1):
        return None
    if pkt == 0:
        track_body = body[5:]  # the avcC record
    else:
        track_body = body[2:5] + body[5:]  # SI24 composition time, then the NAL units
    out = bytes([0x80 | (frame_type << 4) | 6, (1 << 4) | pkt]) + b"avc1"
    for t in tracks:
        out += bytes([t]) + len(track_body).to_bytes(3, "big") + track_body
    return out


class RtmpPublisher:
    """A minimal RTMP publisher (simple handshake, AMF0 commands, one message stream) that sends
    the tags of an FLV file, video optionally as Enhanced RTMP multitrack."""

    CHUNK = 60000

    def __init__(self, rtmp_url, key):
        host, port = rtmp_url.split("://", 1)[1].split("/")[0].rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.received = b""
        self.closed = threading.Event()
        c1 = bytes(8) + os.urandom(1528)
        self.sock.sendall(b"\x03" + c1)
        s = self._read_exact(1 + 1536 + 1536)
        self.sock.sendall(s[1:1537])
        self._send(2, 1, 0, 0, struct.pack(">I", self.CHUNK))
        self._send(3, 20, 0, 0, amf_string("connect") + amf_number(1) +
                   amf_object({"app": "app", "type": "nonprivate", "tcUrl": f"rtmp://{host}:{port}/app"}))
        self._send(3, 20, 0, 0, amf_string("createStream") + amf_number(2) + b"\x05")
        self._send(8, 20, 1, 0, amf_string("publish") + amf_number(3) + b"\x05" + amf_string(key) +
                   amf_string("live"))
        threading.Thread(target=self._reader, daemon=True).start()

    def _read_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed during the handshake")
            buf += chunk
        return buf

    def _reader(self):
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.received += chunk
        except OSError:
            pass
        self.closed.set()

    def _send(self, csid, type_id, stream_id, ts, payload):
        header = bytes([csid]) + min(ts, 0xFFFFFF).to_bytes(3, "big") + len(payload).to_bytes(3, "big") + \
            bytes([type_id]) + struct.pack("<I", stream_id)
        out = header + payload[:self.CHUNK]
        rest = payload[self.CHUNK:]
        while rest:
            out += bytes([0xC0 | csid]) + rest[:self.CHUNK]
            rest = rest[self.CHUNK:]
        self.sock.sendall(out)

    def send_flv(self, tags, tracks):
        for kind, ts, body in tags:
            if kind == 18:
                self._send(4, 18, 1, ts, amf_string("@setDataFrame") + body)
            elif kind == 8:
                self._send(4, 8, 1, ts, body)
            elif kind == 9:
                if tracks is not None:
                    body = multitrack_video(body, tracks)
                    if body is None:
                        continue
                self._send(6, 9, 1, ts, body)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


@pytest.fixture(scope="module")
def flv_source():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "src.flv")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
                        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "5",
                        "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
                        "-c:a", "aac", "-f", "flv", path], check=True, timeout=FFMPEG_DEADLINE)
        yield flv_tags(path)


def session_ended_code(ivs, arn):
    try:
        s = ivs.get_stream_session(channelArn=arn)["streamSession"]
    except botocore.exceptions.ClientError:
        return None
    ended = [e for e in s["truncatedEvents"] if e["name"] == "Session Ended"]
    return ended[0].get("code", "") if ended else None


def test_multitrack_input_policy(live_server, flv_source):
    ivs = live_server.client("ivs")
    mt = {"enabled": True, "policy": "ALLOW", "maximumResolution": "FULL_HD"}
    off = ivs.create_channel(name="mt-off", latencyMode="NORMAL")
    allow = ivs.create_channel(name="mt-allow", latencyMode="NORMAL", containerFormat="FRAGMENTED_MP4",
                               multitrackInputConfiguration=mt)
    require = ivs.create_channel(name="mt-require", latencyMode="NORMAL", containerFormat="FRAGMENTED_MP4",
                                 multitrackInputConfiguration=dict(mt, policy="REQUIRE"))
    rtmp = live_server.rtmp_url

    # Multitrack to a channel without it: the session ends with MultitrackInputNotAllowed.
    p = RtmpPublisher(rtmp, off["streamKey"]["value"])
    try:
        wait_for(lambda: b"NetStream.Publish.Start" in p.received, timeout=5, what="publish accepted")
        p.send_flv(flv_source, tracks=[0, 1])
        assert p.closed.wait(10), "the server closes the connection"
    finally:
        p.close()
    assert wait_for(lambda: session_ended_code(ivs, off["channel"]["arn"]), what="session ended") == \
        "MultitrackInputNotAllowed"
    assert ivs.list_stream_sessions(channelArn=off["channel"]["arn"])["streamSessions"][0]["hasErrorEvent"]

    # Single-track (ffmpeg) to a channel requiring multitrack: MultitrackInputRequired.
    proc = publish(ingest_url(require["channel"], require["streamKey"]["value"]), 6)
    try:
        assert wait_for(lambda: session_ended_code(ivs, require["channel"]["arn"]), what="session ended") == \
            "MultitrackInputRequired"
    finally:
        stop(proc)

    # Multitrack where it is allowed or required: accepted, track 0 is packaged and plays.
    for ch in (allow, require):
        p = RtmpPublisher(rtmp, ch["streamKey"]["value"])
        try:
            wait_for(lambda: b"NetStream.Publish.Start" in p.received, timeout=5, what="publish accepted")
            p.send_flv(flv_source, tracks=[0, 1])
            url = ch["channel"]["playbackUrl"]
            wait_for(lambda: segment_count(url) >= 2, timeout=10, what="segments from track 0")
            assert live_stream(ivs, ch["channel"]["arn"])["state"] == "LIVE"
            probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width",
                                    "-of", "csv=p=0", url], capture_output=True, text=True, timeout=FFMPEG_DEADLINE)
            assert probe.returncode == 0 and "h264,320" in probe.stdout, probe.stderr
            assert not p.closed.is_set()
        finally:
            p.close()
        wait_for(lambda: live_stream(ivs, ch["channel"]["arn"]) is None, what="offline")
        assert session_ended_code(ivs, ch["channel"]["arn"]) == ""


def refused_multitrack(ivs, rtmp, channel, tags, tracks):
    """Publishes `tags` as multitrack on `tracks`; the Session Ended code once the server hangs up."""
    p = RtmpPublisher(rtmp, channel["streamKey"]["value"])
    try:
        wait_for(lambda: b"NetStream.Publish.Start" in p.received, timeout=5, what="publish accepted")
        try:
            p.send_flv(tags, tracks=tracks)
        except OSError:
            pass  # the server may hang up while the rest of the file is still being sent
        assert p.closed.wait(10), "the server closes the connection"
    finally:
        p.close()
    arn = channel["channel"]["arn"]
    code = wait_for(lambda: session_ended_code(ivs, arn), what="session ended")
    assert ivs.list_stream_sessions(channelArn=arn)["streamSessions"][0]["hasErrorEvent"]
    return code


def test_multitrack_track_count_and_media_properties(live_server, flv_source, tmp_path):
    ivs = live_server.client("ivs")
    sd = {"enabled": True, "policy": "ALLOW", "maximumResolution": "SD"}
    count = ivs.create_channel(name="mt-count", latencyMode="NORMAL", containerFormat="FRAGMENTED_MP4",
                               multitrackInputConfiguration=sd)
    props = ivs.create_channel(name="mt-props", latencyMode="NORMAL", containerFormat="FRAGMENTED_MP4",
                               multitrackInputConfiguration=sd)
    rtmp = live_server.rtmp_url

    # Four tracks where SD leaves room for three (the rungs of IVS's ladder at or under 480 lines).
    assert refused_multitrack(ivs, rtmp, count, flv_source, [0, 1, 2, 3]) == "InvalidMultitrackInputTrackCount"

    # 720-line tracks on a channel whose multitrack maximum is SD.
    path = str(tmp_path / "hd.flv")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=25",
                    "-t", "1", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
                    "-f", "flv", path], check=True, timeout=FFMPEG_DEADLINE)
    assert refused_multitrack(ivs, rtmp, props, flv_tags(path), [0, 1]) == \
        "InvalidMultitrackInputVideoTrackMediaProperties"

    # Within the limits (three 320x240 tracks), the same channel streams.
    p = RtmpPublisher(rtmp, props["streamKey"]["value"])
    try:
        wait_for(lambda: b"NetStream.Publish.Start" in p.received, timeout=5, what="publish accepted")
        p.send_flv(flv_source, tracks=[0, 1, 2])
        url = props["channel"]["playbackUrl"]
        wait_for(lambda: segment_count(url) >= 1, timeout=10, what="segments from track 0")
        assert not p.closed.is_set()
    finally:
        p.close()
    wait_for(lambda: live_stream(ivs, props["channel"]["arn"]) is None, what="offline")
