"""The binary's own contract: ready line, health, reset, graceful shutdown, accounts."""
import json
import signal
import subprocess
import urllib.request

import botocore.exceptions

from conftest import Reelay, reelay_bin


def get_json(url):
    with urllib.request.urlopen(url) as r:
        return r.status, json.loads(r.read())


def test_prints_exactly_one_ready_line_and_picks_a_free_port():
    with Reelay() as r:
        assert r.url.startswith("http://127.0.0.1:")
        assert not r.url.endswith(":0")
        assert r.rtmp_url.startswith("rtmp://127.0.0.1:") and not r.rtmp_url.endswith(":0")
        status, health = get_json(r.url + "/_reelay/health")
        assert status == 200
        assert health["status"] == "ok"
        assert health["version"]
        assert health["uptimeSeconds"] >= 0
        assert {s["service"] for s in health["services"]} == {
            "mediapackage-vod", "ivs", "ivs-realtime", "kinesisvideo", "kinesis-video-media",
            "kinesis-video-archived-media", "kinesis-video-signaling", "kinesis-video-webrtc-storage",
        }
        assert sum(s["operations"] for s in health["services"]) == 146
        code = r.stop(signal.SIGTERM)
        out = r.proc.stdout.read() if r.proc.stdout else ""
        assert code == 0, "".join(r.stderr_lines[-20:])
        assert "reelay listening on" not in out  # the ready line was printed once, before
        assert len(r.stdout_lines) == 1


def test_sigint_shuts_down_gracefully():
    with Reelay() as r:
        assert r.stop(signal.SIGINT) == 0


def test_reset_endpoints_answer_ok(server):
    for path in ("/_reelay/reset", "/moto-api/reset"):
        req = urllib.request.Request(server.url + path, method="POST", data=b"")
        with urllib.request.urlopen(req) as resp:
            assert resp.status == 200
            assert json.loads(resp.read()) == {"status": "ok"}


def test_reset_wipes_s3_state(fresh_server):
    s3 = fresh_server.client("s3")
    s3.create_bucket(Bucket="wiped")
    s3.put_object(Bucket="wiped", Key="k", Body=b"v")
    from conftest import reset
    reset(fresh_server)
    assert "wiped" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_flags_have_environment_equivalents(tmp_path):
    r = Reelay(env={"REELAY_LOG_LEVEL": "debug"}, data_dir=str(tmp_path / "d"))
    with r:
        assert (tmp_path / "d").is_dir()
    assert any("DEBUG" in line for line in r.stderr_lines)


def test_bad_flags_fail_fast():
    p = subprocess.run([reelay_bin(), "serve", "--auth", "strict"], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "--credentials" in p.stderr


def test_public_url_is_what_returned_urls_point_at():
    with Reelay("--public-url", "http://media.example.test:8080/") as r:
        ch = r.client("ivs").create_channel(name="pub")["channel"]
        assert ch["playbackUrl"].startswith("http://media.example.test:8080/api/video/v1/"), ch["playbackUrl"]
        kv = r.client("kinesisvideo")
        kv.create_stream(StreamName="pub", DataRetentionInHours=1)
        ep = kv.get_data_endpoint(StreamName="pub", APIName="GET_MEDIA")["DataEndpoint"]
        assert ep.startswith("http://media.example.test:8080"), ep
