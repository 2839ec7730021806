"""IVS live over RTMPS, end to end with real clients: reelay serves RTMPS with a self-signed certificate
made in the test, boto3 creates channels, ffmpeg publishes to `rtmps://<ingestEndpoint>/app/<streamKey>`
and decodes the playbackUrl.

Covers: `ingestEndpoint` naming the RTMPS listener, an RTMPS publish going LIVE and playing, the
secure-ingest rule while RTMPS is served (plain RTMP refused for channels without insecureIngest,
accepted with it), a client that does not speak TLS, and a certificate that does not load.
"""
import datetime
import os
import socket
import subprocess
import tempfile
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import Reelay, reelay_bin
from test_ivs_live import live_stream, publish, segment_count, wait_for

FFMPEG_DEADLINE = 30


def self_signed(directory):
    """A P-256 self-signed certificate for 127.0.0.1 / localhost, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1")),
        ]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_server():
    with tempfile.TemporaryDirectory(prefix="reelay-tls-") as d:
        cert, key = self_signed(d)
        with Reelay("--rtmps", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key) as r:
            yield r










def plain_url(server, key):
    return f"{server.rtmp_url}/app/{key}"


def test_rtmps_publish_live_and_playable(tls_server):
    ivs = tls_server.client("ivs")
    created = ivs.create_channel(name="rtmps-live", latencyMode="NORMAL")
    ch, key = created["channel"], created["streamKey"]["value"]
    assert tls_server.rtmps_url.startswith("rtmps://127.0.0.1:")
    # AWS's shape: a host (here host:port) without scheme, for rtmps://<ingestEndpoint>/app/.
    assert ch["ingestEndpoint"] == tls_server.rtmps_url.split("://", 1)[1]

    proc = publish(f"rtmps://{ch['ingestEndpoint']}/app/{key}", 9)
    try:
        stream = wait_for(lambda: live_stream(ivs, ch["arn"]), what="LIVE")
        assert stream["state"] == "LIVE"
        wait_for(lambda: segment_count(ch["playbackUrl"]) >= 1, what="a segment")
        play = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-i", ch["playbackUrl"], "-t", "4", "-f", "null", "-"],
            capture_output=True, text=True, timeout=FFMPEG_DEADLINE)
        assert play.returncode == 0 and play.stderr == "", play.stderr
    finally:
        proc.wait(timeout=FFMPEG_DEADLINE)
    assert proc.returncode == 0, proc.stderr.read()
    wait_for(lambda: live_stream(ivs, ch["arn"]) is None, what="OFFLINE")
    session = ivs.get_stream_session(channelArn=ch["arn"])["streamSession"]
    assert "endTime" in session
    assert session["ingestConfiguration"]["video"]["encoder"].startswith("Lavf")


def test_plain_rtmp_needs_insecure_ingest_while_rtmps_is_on(tls_server):
    ivs = tls_server.client("ivs")
    secure = ivs.create_channel(name="rtmps-secure")
    start = time.monotonic()
    refused = publish(plain_url(tls_server, secure["streamKey"]["value"]), 5)
    assert refused.wait(timeout=FFMPEG_DEADLINE) != 0
    assert time.monotonic() - start < 5
    assert live_stream(ivs, secure["channel"]["arn"]) is None
    assert ivs.list_stream_sessions(channelArn=secure["channel"]["arn"])["streamSessions"] == []

    insecure = ivs.create_channel(name="rtmps-insecure", insecureIngest=True)
    ok = publish(plain_url(tls_server, insecure["streamKey"]["value"]), 3)
    try:
        wait_for(lambda: live_stream(ivs, insecure["channel"]["arn"]), what="LIVE over plain RTMP")
    finally:
        ok.wait(timeout=FFMPEG_DEADLINE)
    assert ok.returncode == 0, ok.stderr.read()


def test_non_tls_client_on_the_rtmps_port_is_closed(tls_server):
    host, port = tls_server.rtmps_url.split("://", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        # An RTMP C0+C1 in the clear is not a TLS ClientHello.
        s.sendall(b"\x03" + b"\x00" * 1536)
        data = s.recv(65536)
        # rustls answers with a TLS alert record (content type 21) or just closes; never RTMP's S0.
        assert data == b"" or data[0] == 21, data[:8]


def test_unusable_certificate_stops_startup():
    with tempfile.TemporaryDirectory(prefix="reelay-tls-bad-") as d:
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        for path in (cert, key):
            with open(path, "w") as f:
                f.write("not a pem file\n")
        res = subprocess.run(
            [reelay_bin(), "serve", "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0", "--srt", "127.0.0.1:0",
             "--rtmps", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key, "--data-dir", d],
            capture_output=True, text=True, timeout=30)
        assert res.returncode != 0
        assert "certificate" in res.stderr.lower()
