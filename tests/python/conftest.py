"""Shared fixtures: a real `reelay` process on a free port, and real AWS clients pointed at it.

The binary comes from $REELAY_BIN, else target/debug/reelay (built by the test command).
"""
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time

import boto3
import botocore.config
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
READY_PREFIX = "reelay listening on "
RTMP_PREFIX = "reelay rtmp listening on "
SRT_PREFIX = "reelay srt listening on "
RTMPS_PREFIX = "reelay rtmps listening on "
DUMMY_KEY = "test"
DUMMY_SECRET = "test"


def reelay_bin():
    path = os.environ.get("REELAY_BIN") or os.path.join(ROOT, "target", "debug", "reelay")
    if not os.path.exists(path):
        raise RuntimeError(f"reelay binary not found at {path}: build it with `cargo build` first")
    return path


class Reelay:
    """One reelay server process."""

    def __init__(self, *args, data_dir=None, env=None):
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="reelay-test-")
            data_dir = self._tmp.name
        self.data_dir = data_dir
        self.args = list(args)
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.url = None
        self.stderr_lines = []

    def start(self, timeout=30):
        cmd = [reelay_bin(), "serve", "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0", "--srt", "127.0.0.1:0",
               "--data-dir", self.data_dir,
               *self.args]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env
        )
        lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc.stdout, lines), daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        deadline = time.monotonic() + timeout
        self.rtmp_url = None
        self.srt_url = None
        self.rtmps_url = None
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise RuntimeError("reelay exited early:\n" + "".join(self.stderr_lines[-50:]))
                continue
            if line.startswith(RTMP_PREFIX):
                self.rtmp_url = line[len(RTMP_PREFIX):].strip()
                continue
            if line.startswith(SRT_PREFIX):
                self.srt_url = line[len(SRT_PREFIX):].strip()
                continue
            if line.startswith(RTMPS_PREFIX):
                self.rtmps_url = line[len(RTMPS_PREFIX):].strip()
                continue
            if line.startswith(READY_PREFIX):
                self.url = line[len(READY_PREFIX):].strip()
                self.stdout_lines = [line]
                return self
        raise RuntimeError("reelay did not print its ready line in time")

    @staticmethod
    def _pump(stream, q):
        for line in stream:
            q.put(line)

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def close(self):
        self.stop()
        if self._tmp:
            self._tmp.cleanup()

    def client(self, service, region="us-east-1", access_key=DUMMY_KEY, secret=DUMMY_SECRET, **cfg):
        config = botocore.config.Config(retries={"max_attempts": 1}, **cfg)
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret,
            config=config,
        )

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


@pytest.fixture(scope="session")
def server():
    """A server shared by a test session (tests reset state as they need)."""
    with Reelay() as r:
        yield r


@pytest.fixture
def fresh_server():
    """A server of one's own."""
    with Reelay() as r:
        yield r


# --- Backends -------------------------------------------------------------------------------
# Service suites run against both metadata backends. PostgreSQL comes from
# $REELAY_TEST_POSTGRES_URL (a server URL such as postgres://postgres@127.0.0.1:5432/postgres);
# each server gets a fresh database. CI sets it (see .ci/run); without it, the PostgreSQL
# variants fail in CI and are skipped on a developer machine.

def new_postgres_database():
    import uuid
    import urllib.parse

    base = os.environ.get("REELAY_TEST_POSTGRES_URL")
    if not base:
        if os.environ.get("CI"):
            pytest.fail("REELAY_TEST_POSTGRES_URL is not set in CI")
        pytest.skip("REELAY_TEST_POSTGRES_URL not set: PostgreSQL variant not run")
    name = "reelay_py_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", base, "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {name}"], check=True)
    u = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))


def backend_args(backend):
    """Extra `reelay serve` arguments for a backend name ("sqlite" or "postgres")."""
    if backend == "postgres":
        return ["--database-url", new_postgres_database()]
    return []


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api_server(request):
    """A server per test module and backend: service suites use this to run on both."""
    with Reelay(*backend_args(request.param)) as r:
        r.backend = request.param
        yield r


def reset(server):
    """Wipe all state of a server (POST /_reelay/reset)."""
    import urllib.request

    req = urllib.request.Request(server.url + "/_reelay/reset", method="POST", data=b"")
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 200


def advance_clock(server, seconds):
    """Move the server's clock forward (POST /_reelay/clock)."""
    import json
    import urllib.request

    body = json.dumps({"advanceSeconds": seconds}).encode()
    req = urllib.request.Request(server.url + "/_reelay/clock", method="POST", data=body)
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 200
