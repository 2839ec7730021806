"""IVS low-latency channels, stream keys, streams and viewer revocation through boto3 (and a few
AWS CLI calls), on SQLite and PostgreSQL (the `api_server` fixture).

Covers the 2020-08 private-channel and 2024-11 multitrack seeds: every channel member with its
AWS default, the cross-member rules, a full round trip of the 2024 channel shape, the
one-key-per-channel rule, pagination and filters, tags, and the live-only operations on an idle
channel.
"""
import json
import os
import re
import subprocess

import botocore.exceptions
import pytest

from conftest import reset

ACCOUNT = "000000000000"  # the account of access key "test"
REGION = "us-east-1"
MISSING_CHANNEL = f"arn:aws:ivs:{REGION}:{ACCOUNT}:channel/missing12345"


@pytest.fixture
def ivs(api_server):
    reset(api_server)
    # No client-side validation: the server must refuse bad input itself.
    return api_server.client("ivs", parameter_validation=False)


def error_of(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        call(*args, **kwargs)
    e = ei.value.response
    # IVS errors carry their text in the modelled `exceptionMessage` member.
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e.get("exceptionMessage", "")


def make_bucket(server, name):
    server.client("s3").create_bucket(Bucket=name)


# --- Create and defaults ----------------------------------------------------------------------

def test_create_channel_has_every_member_with_aws_defaults(ivs, api_server):
    resp = ivs.create_channel()
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    ch, key = resp["channel"], resp["streamKey"]
    m = re.fullmatch(rf"arn:aws:ivs:{REGION}:{ACCOUNT}:channel/([a-zA-Z0-9]{{12}})", ch["arn"])
    assert m, ch["arn"]
    cid = m.group(1)
    assert ch["name"] == ""
    assert ch["latencyMode"] == "LOW"
    assert ch["type"] == "STANDARD"
    assert ch["containerFormat"] == "TS"
    assert ch["preset"] == ""
    assert ch["authorized"] is False
    assert ch["insecureIngest"] is False
    assert ch["playbackRestrictionPolicyArn"] == ""
    assert ch["recordingConfigurationArn"] == ""
    assert ch["tags"] == {}
    assert ch["multitrackInputConfiguration"] == {"enabled": False, "maximumResolution": "FULL_HD", "policy": "ALLOW"}
    # Endpoints point at reelay's own listeners, in AWS's forms.
    assert re.fullmatch(r"127\.0\.0\.1:\d+", ch["ingestEndpoint"]), ch["ingestEndpoint"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", ch["srt"]["endpoint"]), ch["srt"]
    assert re.fullmatch(r"[A-Za-z0-9]{32,}", ch["srt"]["passphrase"])
    assert ch["playbackUrl"] == f"{api_server.url}/api/video/v1/{REGION}.{ACCOUNT}.channel.{cid}.m3u8"
    # The stream key: sk_<region>_<12 alnum>_<alnum>, tied to the channel.
    assert re.fullmatch(rf"sk_{REGION}_[A-Za-z0-9]{{12}}_[A-Za-z0-9]{{20,}}", key["value"]), key["value"]
    assert re.fullmatch(rf"arn:aws:ivs:{REGION}:{ACCOUNT}:stream-key/[A-Za-z0-9]{{12}}", key["arn"])
    assert key["channelArn"] == ch["arn"]
    assert key["tags"] == {}
    # Two channels never share a key or passphrase.
    other = ivs.create_channel()
    assert other["streamKey"]["value"] != key["value"]
    assert other["channel"]["srt"]["passphrase"] != ch["srt"]["passphrase"]


def test_insecure_ingest_drops_the_srt_passphrase_and_advanced_types_get_a_preset(ivs):
    ch = ivs.create_channel(insecureIngest=True)["channel"]
    assert ch["insecureIngest"] is True
    assert "passphrase" not in ch["srt"] and ch["srt"]["endpoint"]
    for t in ("ADVANCED_SD", "ADVANCED_HD"):
        ch = ivs.create_channel(type=t)["channel"]
        assert ch["preset"] == "HIGHER_BANDWIDTH_DELIVERY"
    for t in ("BASIC", "STANDARD"):
        assert ivs.create_channel(type=t)["channel"]["preset"] == ""


SEED_2024_CHANNEL_MEMBERS = {
    "arn", "authorized", "containerFormat", "ingestEndpoint", "insecureIngest", "latencyMode",
    "multitrackInputConfiguration", "name", "playbackRestrictionPolicyArn", "playbackUrl", "preset",
    "recordingConfigurationArn", "srt", "tags", "type",
}


def test_full_round_trip_of_the_2024_channel_shape(ivs, api_server):
    make_bucket(api_server, "round-trip-bucket")
    rc = ivs.create_recording_configuration(
        destinationConfiguration={"s3": {"bucketName": "round-trip-bucket"}})["recordingConfiguration"]["arn"]
    rc2 = ivs.create_recording_configuration(
        destinationConfiguration={"s3": {"bucketName": "round-trip-bucket"}})["recordingConfiguration"]["arn"]
    prp = ivs.create_playback_restriction_policy(allowedCountries=["US"])["playbackRestrictionPolicy"]["arn"]
    prp2 = ivs.create_playback_restriction_policy()["playbackRestrictionPolicy"]["arn"]
    created = ivs.create_channel(
        name="full-shape",
        latencyMode="NORMAL",
        type="ADVANCED_HD",
        authorized=True,
        recordingConfigurationArn=rc,
        tags={"team": "video", "env": "test"},
        insecureIngest=True,
        preset="CONSTRAINED_BANDWIDTH_DELIVERY",
        playbackRestrictionPolicyArn=prp,
        multitrackInputConfiguration={"enabled": False, "maximumResolution": "HD", "policy": "REQUIRE"},
        containerFormat="FRAGMENTED_MP4",
    )["channel"]
    assert SEED_2024_CHANNEL_MEMBERS <= set(created), set(created) ^ SEED_2024_CHANNEL_MEMBERS
    expected = {
        "name": "full-shape", "latencyMode": "NORMAL", "type": "ADVANCED_HD", "authorized": True,
        "recordingConfigurationArn": rc, "tags": {"team": "video", "env": "test"}, "insecureIngest": True,
        "preset": "CONSTRAINED_BANDWIDTH_DELIVERY", "playbackRestrictionPolicyArn": prp,
        "multitrackInputConfiguration": {"enabled": False, "maximumResolution": "HD", "policy": "REQUIRE"},
        "containerFormat": "FRAGMENTED_MP4",
    }
    for k, v in expected.items():
        assert created[k] == v, k
    arn = created["arn"]
    got = ivs.get_channel(arn=arn)["channel"]
    assert got == created
    batch = ivs.batch_get_channel(arns=[arn])
    assert batch["channels"] == [created] and batch["errors"] == []

    # Update each member in turn and see it on Get and BatchGet.
    updates = [
        {"name": "renamed"},
        {"latencyMode": "LOW"},
        {"authorized": False},
        {"insecureIngest": False},
        {"preset": "HIGHER_BANDWIDTH_DELIVERY"},
        {"type": "ADVANCED_SD"},
        {"recordingConfigurationArn": rc2},
        {"playbackRestrictionPolicyArn": prp2},
        {"containerFormat": "TS"},
        {"multitrackInputConfiguration": {"enabled": False, "maximumResolution": "SD", "policy": "ALLOW"}},
        {"type": "STANDARD"},
        {"containerFormat": "FRAGMENTED_MP4",
         "multitrackInputConfiguration": {"enabled": True, "maximumResolution": "FULL_HD", "policy": "REQUIRE"}},
        {"recordingConfigurationArn": ""},
        {"playbackRestrictionPolicyArn": ""},
    ]
    state = dict(got)
    for u in updates:
        out = ivs.update_channel(arn=arn, **u)["channel"]
        state.update(u)
        if u.get("type") == "STANDARD":
            state["preset"] = ""
        if "insecureIngest" in u:
            assert ("passphrase" in out["srt"]) is (not u["insecureIngest"])
            state["srt"] = out["srt"]
        for k, v in u.items():
            assert out[k] == v, (u, k)
        assert ivs.get_channel(arn=arn)["channel"] == out
        assert ivs.batch_get_channel(arns=[arn])["channels"] == [out]
        assert {k: out[k] for k in state if k != "srt"} == {k: state[k] for k in state if k != "srt"}
    # The channel's tags and immutable members survived every update.
    final = ivs.get_channel(arn=arn)["channel"]
    assert final["tags"] == {"team": "video", "env": "test"}
    assert final["arn"] == arn and final["playbackUrl"] == created["playbackUrl"]


# --- The seeds' rules -------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    {"type": "STANDARD", "preset": "HIGHER_BANDWIDTH_DELIVERY"},
    {"type": "BASIC", "preset": "CONSTRAINED_BANDWIDTH_DELIVERY"},
    {"preset": "HIGHER_BANDWIDTH_DELIVERY"},
    {"type": "BASIC", "containerFormat": "FRAGMENTED_MP4",
     "multitrackInputConfiguration": {"enabled": True, "policy": "ALLOW", "maximumResolution": "HD"}},
    {"type": "ADVANCED_HD", "containerFormat": "FRAGMENTED_MP4",
     "multitrackInputConfiguration": {"enabled": True, "policy": "ALLOW", "maximumResolution": "HD"}},
    {"multitrackInputConfiguration": {"enabled": True, "policy": "ALLOW", "maximumResolution": "HD"}},
    {"containerFormat": "TS", "multitrackInputConfiguration": {"enabled": True, "policy": "ALLOW", "maximumResolution": "HD"}},
    {"containerFormat": "FRAGMENTED_MP4", "multitrackInputConfiguration": {"enabled": True, "policy": "ALLOW"}},
    {"containerFormat": "FRAGMENTED_MP4", "multitrackInputConfiguration": {"enabled": True, "maximumResolution": "SD"}},
    {"recordingConfigurationArn": f"arn:aws:ivs:{REGION}:{ACCOUNT}:recording-configuration/nope12345678"},
    {"playbackRestrictionPolicyArn": f"arn:aws:ivs:{REGION}:{ACCOUNT}:playback-restriction-policy/nope12345678"},
    {"adConfigurationArn": f"arn:aws:ivs:{REGION}:{ACCOUNT}:ad-configuration/nope12345678"},
    {"failoverSlateConfigurationArn": f"arn:aws:ivs:{REGION}:{ACCOUNT}:failover-slate-configuration/nope12345678"},
    {"name": "bad name!"},
    {"latencyMode": "ULTRA"},
    {"tags": {"": "empty key"}},
], ids=lambda p: json.dumps(p, sort_keys=True)[:70])
def test_seed_rules_are_validation_exceptions(ivs, params):
    code, status, _ = error_of(ivs.create_channel, **params)
    assert (code, status) == ("ValidationException", 400)


def test_multitrack_on_a_standard_fmp4_channel(ivs):
    ch = ivs.create_channel(
        containerFormat="FRAGMENTED_MP4",
        multitrackInputConfiguration={"enabled": True, "policy": "REQUIRE", "maximumResolution": "SD"})["channel"]
    assert ch["multitrackInputConfiguration"] == {"enabled": True, "maximumResolution": "SD", "policy": "REQUIRE"}
    # Rules also hold on update: no TS, no other type while multitrack is on.
    for u in ({"containerFormat": "TS"}, {"type": "BASIC"}, {"type": "ADVANCED_SD"},
              {"multitrackInputConfiguration": {"enabled": True}}):
        code, status, _ = error_of(ivs.update_channel, arn=ch["arn"], **u)
        assert (code, status) == ("ValidationException", 400), u
    code, _, _ = error_of(ivs.update_channel, arn=ivs.create_channel()["channel"]["arn"], preset="HIGHER_BANDWIDTH_DELIVERY")
    assert code == "ValidationException"


# --- Get, BatchGet, List, Update, Delete ------------------------------------------------------

def test_get_update_delete_unknown_channel_is_404(ivs):
    for call, kw in [(ivs.get_channel, {"arn": MISSING_CHANNEL}),
                     (ivs.update_channel, {"arn": MISSING_CHANNEL, "name": "x"}),
                     (ivs.delete_channel, {"arn": MISSING_CHANNEL}),
                     (ivs.list_stream_keys, {"channelArn": MISSING_CHANNEL}),
                     (ivs.create_stream_key, {"channelArn": MISSING_CHANNEL}),
                     (ivs.get_stream, {"channelArn": MISSING_CHANNEL}),
                     (ivs.stop_stream, {"channelArn": MISSING_CHANNEL}),
                     (ivs.put_metadata, {"channelArn": MISSING_CHANNEL, "metadata": "x"}),
                     (ivs.get_stream_session, {"channelArn": MISSING_CHANNEL}),
                     (ivs.list_stream_sessions, {"channelArn": MISSING_CHANNEL}),
                     (ivs.insert_ad_break, {"channelArn": MISSING_CHANNEL, "durationSeconds": 30}),
                     (ivs.start_viewer_session_revocation, {"channelArn": MISSING_CHANNEL, "viewerId": "v"})]:
        code, status, msg = error_of(call, **kw)
        assert (code, status) == ("ResourceNotFoundException", 404), call
        assert msg


def test_batch_get_channel_reports_missing_arns(ivs):
    a = ivs.create_channel(name="a")["channel"]
    b = ivs.create_channel(name="b")["channel"]
    resp = ivs.batch_get_channel(arns=[a["arn"], MISSING_CHANNEL, b["arn"]])
    assert [c["name"] for c in resp["channels"]] == ["a", "b"]
    assert resp["errors"] == [{"arn": MISSING_CHANNEL, "code": "ResourceNotFoundException",
                               "message": f"channel not found: {MISSING_CHANNEL}"}]


def test_list_channels_paginates_and_filters(ivs, api_server):
    make_bucket(api_server, "list-filter-bucket")
    rc = ivs.create_recording_configuration(
        destinationConfiguration={"s3": {"bucketName": "list-filter-bucket"}})["recordingConfiguration"]["arn"]
    prp = ivs.create_playback_restriction_policy()["playbackRestrictionPolicy"]["arn"]
    arns = set()
    for i in range(7):
        kw = {"name": f"chan-{i % 3}"}
        if i == 1:
            kw["recordingConfigurationArn"] = rc
        if i == 2:
            kw["playbackRestrictionPolicyArn"] = prp
        arns.add(ivs.create_channel(**kw)["channel"]["arn"])
    pages = list(ivs.get_paginator("list_channels").paginate(PaginationConfig={"PageSize": 3}))
    assert [len(p["channels"]) for p in pages] == [3, 3, 1]
    assert {c["arn"] for p in pages for c in p["channels"]} == arns
    summary = pages[0]["channels"][0]
    assert set(summary) >= {"arn", "name", "latencyMode", "authorized", "insecureIngest", "preset",
                            "playbackRestrictionPolicyArn", "recordingConfigurationArn", "tags", "type"}
    assert {c["name"] for c in ivs.list_channels(filterByName="chan-1")["channels"]} == {"chan-1"}
    assert len(ivs.list_channels(filterByName="chan-1")["channels"]) == 2
    assert len(ivs.list_channels(filterByName="chan")["channels"]) == 0
    assert [c["recordingConfigurationArn"] for c in ivs.list_channels(filterByRecordingConfigurationArn=rc)["channels"]] == [rc]
    assert len(ivs.list_channels(filterByPlaybackRestrictionPolicyArn=prp)["channels"]) == 1
    # ListChannels: "Filters are mutually exclusive ... (409 ConflictException)".
    code, status, _ = error_of(ivs.list_channels, filterByName="chan-1", filterByRecordingConfigurationArn=rc)
    assert (code, status) == ("ConflictException", 409)
    code, _, _ = error_of(ivs.list_channels, nextToken="bm90LWEtdG9rZW4")
    assert code == "ValidationException"
    code, _, _ = error_of(ivs.list_channels, maxResults=101)
    assert code == "ValidationException"


def test_delete_channel_removes_its_stream_key(ivs):
    resp = ivs.create_channel()
    arn, key = resp["channel"]["arn"], resp["streamKey"]["arn"]
    r = ivs.delete_channel(arn=arn)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(ivs.get_channel, arn=arn)[0] == "ResourceNotFoundException"
    assert error_of(ivs.get_stream_key, arn=key)[0] == "ResourceNotFoundException"
    assert ivs.list_channels()["channels"] == []


# --- Stream keys ------------------------------------------------------------------------------

def test_stream_keys_one_per_channel(ivs):
    resp = ivs.create_channel()
    arn, key = resp["channel"]["arn"], resp["streamKey"]
    code, status, _ = error_of(ivs.create_stream_key, channelArn=arn)
    assert (code, status) == ("ServiceQuotaExceededException", 402)
    assert ivs.get_stream_key(arn=key["arn"])["streamKey"] == key
    listed = ivs.list_stream_keys(channelArn=arn)["streamKeys"]
    assert listed == [{"arn": key["arn"], "channelArn": arn, "tags": {}}]
    assert ivs.delete_stream_key(arn=key["arn"])["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(ivs.delete_stream_key, arn=key["arn"])[:2] == ("ResourceNotFoundException", 404)
    assert ivs.list_stream_keys(channelArn=arn)["streamKeys"] == []
    new = ivs.create_stream_key(channelArn=arn, tags={"k": "v"})["streamKey"]
    assert new["value"] != key["value"] and new["tags"] == {"k": "v"} and new["channelArn"] == arn
    missing = key["arn"]
    batch = ivs.batch_get_stream_key(arns=[new["arn"], missing])
    assert batch["streamKeys"] == [new]
    assert batch["errors"][0]["arn"] == missing and batch["errors"][0]["code"] == "ResourceNotFoundException"


def test_list_stream_keys_paginator(ivs):
    arn = ivs.create_channel()["channel"]["arn"]
    pages = list(ivs.get_paginator("list_stream_keys").paginate(channelArn=arn))
    assert sum(len(p["streamKeys"]) for p in pages) == 1


# --- Streams on an idle channel ---------------------------------------------------------------

def test_live_only_operations_on_an_idle_channel(ivs):
    arn = ivs.create_channel()["channel"]["arn"]
    for call, kw in [(ivs.get_stream, {}), (ivs.stop_stream, {}), (ivs.put_metadata, {"metadata": "hello"})]:
        code, status, _ = error_of(call, channelArn=arn, **kw)
        assert (code, status) == ("ChannelNotBroadcasting", 404), call
    code, _, _ = error_of(ivs.put_metadata, channelArn=arn, metadata="x" * 1025)
    assert code == "ValidationException"
    assert ivs.list_streams()["streams"] == []
    assert ivs.list_streams(filterBy={"health": "HEALTHY"})["streams"] == []
    pages = list(ivs.get_paginator("list_streams").paginate())
    assert sum(len(p["streams"]) for p in pages) == 0
    assert ivs.list_stream_sessions(channelArn=arn)["streamSessions"] == []
    code, status, _ = error_of(ivs.get_stream_session, channelArn=arn)
    assert (code, status) == ("ResourceNotFoundException", 404)
    code, _, _ = error_of(ivs.get_stream_session, channelArn=arn, streamId="st-" + "a" * 23)
    assert code == "ResourceNotFoundException"


def test_insert_ad_break_needs_an_ad_configuration_then_a_live_stream(ivs):
    plain = ivs.create_channel()["channel"]["arn"]
    code, status, _ = error_of(ivs.insert_ad_break, channelArn=plain, durationSeconds=30)
    assert (code, status) == ("ValidationException", 400)
    ad = ivs.create_ad_configuration(mediaTailorPlaybackConfigurations=[
        {"playbackConfigurationArn": f"arn:aws:mediatailor:{REGION}:{ACCOUNT}:playbackConfiguration/pc1"}])
    with_ads = ivs.create_channel(adConfigurationArn=ad["adConfiguration"]["arn"])["channel"]
    assert with_ads["adConfigurationArn"] == ad["adConfiguration"]["arn"]
    code, status, _ = error_of(ivs.insert_ad_break, channelArn=with_ads["arn"], durationSeconds=30)
    assert (code, status) == ("ChannelNotBroadcasting", 404)
    code, _, _ = error_of(ivs.insert_ad_break, channelArn=with_ads["arn"], durationSeconds=301)
    assert code == "ValidationException"


# --- Viewer revocation ------------------------------------------------------------------------

def test_viewer_session_revocation(ivs):
    arn = ivs.create_channel(authorized=True)["channel"]["arn"]
    r = ivs.start_viewer_session_revocation(channelArn=arn, viewerId="viewer-1", viewerSessionVersionsLessThanOrEqualTo=3)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    r = ivs.batch_start_viewer_session_revocation(viewerSessions=[
        {"channelArn": arn, "viewerId": "viewer-2"},
        {"channelArn": MISSING_CHANNEL, "viewerId": "viewer-3", "viewerSessionVersionsLessThanOrEqualTo": 1},
    ])
    assert r["errors"] == [{"channelArn": MISSING_CHANNEL, "viewerId": "viewer-3", "code": "404",
                            "message": f"channel not found: {MISSING_CHANNEL}"}]
    code, _, _ = error_of(ivs.start_viewer_session_revocation, channelArn=arn, viewerId="x" * 41)
    assert code == "ValidationException"
    code, _, _ = error_of(ivs.batch_start_viewer_session_revocation, viewerSessions=[])
    assert code == "ValidationException"


# --- Tags on channels and stream keys ---------------------------------------------------------

def test_tags_on_channels_and_stream_keys(ivs):
    resp = ivs.create_channel(tags={"a": "1"})
    for arn, initial in [(resp["channel"]["arn"], {"a": "1"}), (resp["streamKey"]["arn"], {})]:
        assert ivs.list_tags_for_resource(resourceArn=arn)["tags"] == initial
        ivs.tag_resource(resourceArn=arn, tags={"b": "2", "c": "3"})
        assert ivs.list_tags_for_resource(resourceArn=arn)["tags"] == dict(initial, b="2", c="3")
        ivs.untag_resource(resourceArn=arn, tagKeys=["b", "not-there"])
        assert ivs.list_tags_for_resource(resourceArn=arn)["tags"] == dict(initial, c="3")
    assert ivs.get_channel(arn=resp["channel"]["arn"])["channel"]["tags"] == {"a": "1", "c": "3"}
    arn = resp["channel"]["arn"]
    ivs.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(48)})
    code, status, _ = error_of(ivs.tag_resource, resourceArn=arn, tags={"one-too-many": "v"})
    assert (code, status) == ("ValidationException", 400)
    for call, kw in [(ivs.list_tags_for_resource, {}), (ivs.tag_resource, {"tags": {"a": "b"}}),
                     (ivs.untag_resource, {"tagKeys": ["a"]})]:
        code, status, _ = error_of(call, resourceArn=MISSING_CHANNEL, **kw)
        assert (code, status) == ("ResourceNotFoundException", 404)


def test_accounts_and_regions_are_isolated(ivs, api_server):
    arn = ivs.create_channel(name="mine")["channel"]["arn"]
    other_region = api_server.client("ivs", region="eu-west-1")
    assert other_region.list_channels()["channels"] == []
    assert error_of(other_region.get_channel, arn=arn)[0] == "ResourceNotFoundException"
    other_account = api_server.client("ivs", access_key="111122223333")
    assert other_account.list_channels()["channels"] == []


# --- AWS CLI ----------------------------------------------------------------------------------

def aws(server, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=REGION,
               AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
    return subprocess.run(["aws", "--endpoint-url", server.url, "ivs", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_aws_cli_create_get_list_delete(ivs, api_server):
    p = aws(api_server, "create-channel", "--name", "cli-channel", "--no-insecure-ingest")
    assert p.returncode == 0, p.stderr
    ch = json.loads(p.stdout)["channel"]
    assert ch["name"] == "cli-channel" and ch["preset"] == ""
    p = aws(api_server, "get-channel", "--arn", ch["arn"])
    assert p.returncode == 0 and json.loads(p.stdout)["channel"]["arn"] == ch["arn"]
    p = aws(api_server, "list-channels", "--filter-by-name", "cli-channel")
    assert p.returncode == 0 and len(json.loads(p.stdout)["channels"]) == 1
    p = aws(api_server, "create-stream-key", "--channel-arn", ch["arn"])
    assert p.returncode != 0 and "ServiceQuotaExceededException" in p.stderr
    p = aws(api_server, "delete-channel", "--arn", ch["arn"])
    assert p.returncode == 0, p.stderr
    p = aws(api_server, "get-channel", "--arn", ch["arn"])
    assert p.returncode != 0 and "ResourceNotFoundException" in p.stderr
