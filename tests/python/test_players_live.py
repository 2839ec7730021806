"""IVS live playback URLs played by hls.js in headless Chromium (issue #7).

For each channel kind (NORMAL latency with TS segments, LOW latency with TS segments and LL-HLS
parts, LOW latency with FRAGMENTED_MP4), ffmpeg publishes a generated stream over RTMP and hls.js
plays the channel's playbackUrl from another origin for several seconds: no fatal error, no <video>
error, currentTime advancing with the wall clock, no failed request. For the LOW channels hls.js's
own latency estimate (distance from the live edge) is printed and bounded.
"""
import shutil

import pytest

from conftest import Reelay
from players import play, request_errors, require_browser, summary
from test_ivs_live import ingest_url, live_stream, publish, segment_count, stop, wait_for

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is required")

PLAY_SECONDS = 6
# Publishing covers the wait for the first segments, the player's start and the playback.
PUBLISH_SECONDS = 40
LOW_LATENCY_BOUND = 6.0


@pytest.fixture(scope="module")
def live_server():
    require_browser()
    with Reelay() as server:
        yield server


def play_channel(server, name, **channel):
    ivs = server.client("ivs")
    created = ivs.create_channel(name=name, **channel)
    ch, key = created["channel"], created["streamKey"]["value"]
    proc = publish(ingest_url(ch, key), PUBLISH_SECONDS)
    try:
        wait_for(lambda: live_stream(ivs, ch["arn"]), what="LIVE")
        # Two segments listed: a player joining now has something behind the live edge to start from.
        wait_for(lambda: segment_count(ch["playbackUrl"]) >= 2, what="two segments")
        r = play(ch["playbackUrl"], "hlsjs", seconds=PLAY_SECONDS, timeout=30)
    finally:
        stop(proc)
    print(f"{name}: currentTime {r['startTime']} -> {r['currentTime']} (advanced {r['advanced']} s in "
          f"{r['wallSeconds']:.2f} s, startup {r['startupSeconds']} s), latency {r['latency']} s, "
          f"{r['videoWidth']}x{r['videoHeight']}, {r['requests']['total']} requests")
    info = summary(r)
    assert r["ok"], info
    assert r["fatal"] is None, info
    assert not request_errors(r), info
    assert r["advanced"] >= PLAY_SECONDS - 1.5, info
    assert (r["videoWidth"], r["videoHeight"]) == (320, 240), info
    assert r["tracks"]["live"] is True, info
    levels = r["tracks"]["levels"]
    assert len(levels) == 1 and levels[0]["videoCodec"].startswith("avc1."), info
    return r


def test_hlsjs_plays_normal_latency_ts(live_server):
    r = play_channel(live_server, "players-normal", latencyMode="NORMAL")
    assert r["errors"] == [], summary(r)
    loaded = [e["detail"] for e in r["events"] if e["name"] == "hls.LEVEL_LOADED"]
    assert loaded and all(d["partTarget"] == 0 and d["targetduration"] == 2 for d in loaded), summary(r)


def check_low_latency(r):
    assert r["errors"] == [], summary(r)
    # hls.js read the playlist as LL-HLS (a part target) and plays close to the live edge.
    loaded = [e["detail"] for e in r["events"] if e["name"] == "hls.LEVEL_LOADED"]
    assert loaded and all(d["partTarget"] > 0 for d in loaded), summary(r)
    assert r["latency"] is not None and 0 < r["latency"] < LOW_LATENCY_BOUND, summary(r)


def test_hlsjs_plays_low_latency_ts(live_server):
    check_low_latency(play_channel(live_server, "players-low", latencyMode="LOW"))


def test_hlsjs_plays_low_latency_fragmented_mp4(live_server):
    check_low_latency(play_channel(live_server, "players-fmp4", latencyMode="LOW", containerFormat="FRAGMENTED_MP4"))
