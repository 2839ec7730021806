"""Hostile input on the RTMP port ends only the offending connection: garbage, a truncated
handshake, a connection that stalls after the handshake, an oversized chunk size, and a publisher
presenting a wrong stream key for the live channel, all while a real ffmpeg publisher keeps
streaming. The idle timeout is shortened through
REELAY_LIVE_IDLE_TIMEOUT_MS so that stalls are detected within the test."""
import os
import socket
import struct
import subprocess
import time

from conftest import Reelay
from test_ivs_live import FFMPEG_DEADLINE, ingest_url, live_stream, publish, stop, wait_for

HANDSHAKE = 1536


def connect(endpoint):
    host, port = endpoint.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


def closed_within(sock, seconds):
    """Whether the server closes `sock` within `seconds` (whatever it sent first is skipped)."""
    deadline = time.monotonic() + seconds
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            if sock.recv(65536) == b"":
                return True
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True
    return False


def handshake(sock):
    sock.sendall(b"\x03" + os.urandom(HANDSHAKE))
    got = b""
    sock.settimeout(10)
    while len(got) < 1 + 2 * HANDSHAKE:
        chunk = sock.recv(65536)
        assert chunk, "server closed during the handshake"
        got += chunk
    assert got[0] == 3
    sock.sendall(got[1:1 + HANDSHAKE])


def test_hostile_connections_end_alone():
    with Reelay(env={"REELAY_LIVE_IDLE_TIMEOUT_MS": "1000"}) as server:
        ivs = server.client("ivs")
        created = ivs.create_channel(name="hostile", latencyMode="NORMAL")
        ch, key = created["channel"], created["streamKey"]["value"]
        other = ivs.create_channel(name="idle", latencyMode="NORMAL")
        idle, idle_key = other["channel"], other["streamKey"]["value"]
        endpoint = ch["ingestEndpoint"]
        proc = publish(ingest_url(ch, key), 8)
        try:
            stream = wait_for(lambda: live_stream(ivs, ch["arn"]), what="LIVE")

            with connect(endpoint) as s:
                s.sendall(b"\xff" + os.urandom(4000))
                assert closed_within(s, 5), "garbage"

            with connect(endpoint) as s:
                s.sendall(b"\x03" + os.urandom(100))
                assert closed_within(s, 5), "truncated handshake"

            with connect(endpoint) as s:
                handshake(s)
                assert closed_within(s, 5), "stalled after the handshake"

            with connect(endpoint) as s:
                handshake(s)
                # Set Chunk Size (type 1) on chunk stream 2, fmt 0, asking for 2^31 - 1 bytes.
                header = bytes([0x02]) + b"\x00\x00\x00" + (4).to_bytes(3, "big") + b"\x01" + struct.pack("<I", 0)
                s.sendall(header + struct.pack(">I", 0x7FFFFFFF))
                assert closed_within(s, 5), "oversized chunk size"

            # A wrong key (an idle channel's key with its last character changed, so only a
            # failed key check can refuse it): ffmpeg is refused and gives up. It comes after
            # every case above, so the listener is still accepting and answering RTMP.
            wrong = idle_key[:-1] + ("A" if idle_key[-1] != "A" else "B")
            bad = publish(ingest_url(idle, wrong), 2)
            try:
                bad.wait(timeout=FFMPEG_DEADLINE)
            finally:
                stop(bad)
            assert bad.returncode != 0, "a wrong stream key was accepted"
            assert live_stream(ivs, idle["arn"]) is None

            # The real publisher never noticed.
            assert live_stream(ivs, ch["arn"])["streamId"] == stream["streamId"]
            assert proc.poll() is None
        finally:
            proc.wait(timeout=FFMPEG_DEADLINE)
        assert proc.returncode == 0, proc.stderr.read()
        play = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", ch["playbackUrl"], "-f", "null", "-"],
                              capture_output=True, text=True, timeout=FFMPEG_DEADLINE)
        assert play.returncode == 0 and play.stderr == "", play.stderr
        assert server.proc.poll() is None
