"""Real web players (hls.js, dash.js, dash.js MSS, shaka-player) in headless Chromium as test clients.

`play(url, player)` runs `tests/browser/play.mjs` and returns its JSON report (see that file for the
fields; `ok` means no fatal player error, no <video> error and currentTime advancing for the
requested wall time). `require_browser()` skips a test on a developer machine without Chromium or
the npm packages, and fails it in CI, which must never skip silently.
"""
import json
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROWSER_DIR = os.path.join(ROOT, "tests", "browser")
RUNNER = os.path.join(BROWSER_DIR, "play.mjs")
CHROMIUM = os.environ.get("REELAY_CHROMIUM", "/usr/bin/chromium")
PACKAGES = ("playwright-core", "hls.js", "dashjs", "shaka-player")
PLAYERS = ("hlsjs", "dashjs", "dashjs-mss", "shaka")


def missing():
    """What this machine lacks to run the players (empty when nothing)."""
    lacks = []
    if shutil.which("node") is None:
        lacks.append("node is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        lacks.append(f"no Chromium at {CHROMIUM} (set REELAY_CHROMIUM)")
    for pkg in PACKAGES:
        if not os.path.isfile(os.path.join(BROWSER_DIR, "node_modules", pkg, "package.json")):
            lacks.append(f"npm package {pkg} is not installed in tests/browser")
    return lacks


def require_browser():
    lacks = missing()
    if lacks:
        msg = "browser players unavailable: " + "; ".join(lacks) + " (scripts/setup-test-env installs them)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


class PlayerCrash(RuntimeError):
    """The runner itself failed (not the playback): bad arguments, browser did not start."""


def play(url, player, seconds=6, timeout=60):
    """Play `url` with `player` for `seconds` of wall time; the runner's JSON report as a dict."""
    assert player in PLAYERS, player
    cmd = ["node", RUNNER, "--player", player, "--url", url, "--seconds", str(seconds), "--timeout", str(timeout)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 60, cwd=BROWSER_DIR)
    except subprocess.TimeoutExpired as e:
        raise PlayerCrash(f"play.mjs did not finish: {e.stderr}") from e
    lines = [line for line in p.stdout.splitlines() if line.startswith("{")]
    if p.returncode not in (0, 1) or not lines:
        raise PlayerCrash(f"play.mjs exited {p.returncode}:\n{p.stderr}\n{p.stdout[-2000:]}")
    report = json.loads(lines[-1])
    if report["ok"] != (p.returncode == 0):
        raise PlayerCrash(f"play.mjs exit status {p.returncode} disagrees with its report: {lines[-1]}")
    return report


def summary(report):
    """The parts of a report that explain a failure, for assertion messages."""
    keys = ("ok", "reasons", "player", "url", "currentTime", "startTime", "advanced", "wallSeconds", "startupSeconds",
            "duration", "videoWidth", "videoHeight", "loadMode", "latency", "fatal", "tracks", "requests")
    out = {k: report.get(k) for k in keys}
    out["errors"] = report.get("errors", [])[:15]
    out["events"] = report.get("events", [])[-25:]
    return json.dumps(out, indent=1)


def request_errors(report):
    """Failed media requests, HTTP errors, CORS refusals and page exceptions seen by the browser."""
    return [e for e in report["errors"] if e["source"] in ("request", "response", "pageerror")
            or (e["source"] == "console" and "CORS" in e.get("message", ""))]
