"""MediaPackage VOD DASH and Smooth Streaming egress played by real web players (issue #5).

Same source and checks as test_players_vod: dash.js and shaka-player play the DASH URL, dash.js
with its Smooth Streaming module plays the MSS URL, each from another origin than reelay.
"""
import pytest

from conftest import Reelay
from players import play, require_browser, summary
from test_players_vod import PLAY_SECONDS, SIZE, check_vod_playback, packaged_asset, playable_url, pytestmark  # noqa: F401

CONFIGS = {
    "dash": {"DashPackage": {"SegmentDurationSeconds": 2, "DashManifests": [{"ManifestName": "index"}]}},
    "mss": {"MssPackage": {"SegmentDurationSeconds": 2, "MssManifests": [{"ManifestName": "index"}]}},
}


@pytest.fixture(scope="module")
def vod():
    require_browser()
    with Reelay() as server:
        yield packaged_asset(server, CONFIGS)


def check_dashjs_tracks(r):
    video, audio = r["tracks"]["video"], r["tracks"]["audio"]
    assert len(video) == 1 and "avc1." in video[0]["codec"], summary(r)
    assert [(b["width"], b["height"]) for b in video[0]["bitrates"]] == [SIZE], summary(r)
    assert len(audio) == 1 and "mp4a.40.2" in audio[0]["codec"], summary(r)
    assert r["tracks"]["live"] is False, summary(r)


def test_dashjs_plays_dash(vod):
    url = playable_url(vod, "dash")
    assert url.endswith("/index.mpd")
    r = play(url, "dashjs", seconds=PLAY_SECONDS)
    check_vod_playback(r)
    check_dashjs_tracks(r)


def test_shaka_plays_dash(vod):
    r = play(playable_url(vod, "dash"), "shaka", seconds=PLAY_SECONDS)
    check_vod_playback(r)
    variants = r["tracks"]["variants"]
    assert len(variants) == 1 and (variants[0]["width"], variants[0]["height"]) == SIZE, summary(r)
    assert variants[0]["videoCodec"].startswith("avc1.") and variants[0]["audioCodec"] == "mp4a.40.2", summary(r)


def test_dashjs_mss_plays_smooth_streaming(vod):
    url = playable_url(vod, "mss")
    assert url.endswith("/index.ism/Manifest")
    r = play(url, "dashjs-mss", seconds=PLAY_SECONDS)
    check_vod_playback(r)
    check_dashjs_tracks(r)
