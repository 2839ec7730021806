"""IVS Real-Time compositions (lifecycle on reelay's injectable clock, validation, idempotency),
participant replication, and stage sessions / participants / events. SQLite and PostgreSQL."""
import botocore.exceptions
import pytest

from conftest import advance_clock, reset

ACCOUNT = "000000000000"


def expect_error(code, status, fn, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kwargs)
    got = (e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"])
    assert got == (code, status), e.value.response
    # IVS carries the message in `exceptionMessage`, which botocore lifts to the top level.
    return e.value.response.get("exceptionMessage") or e.value.response["Error"].get("Message", "")


@pytest.fixture(scope="module")
def rt(api_server):
    # No client-side checks: reelay must refuse bad input itself.
    return api_server.client("ivs-realtime", parameter_validation=False)


@pytest.fixture(autouse=True)
def clean(api_server):
    reset(api_server)


@pytest.fixture
def env(api_server, rt):
    api_server.client("s3").create_bucket(Bucket="comp-bucket")
    sc = rt.create_storage_configuration(s3={"bucketName": "comp-bucket"})["storageConfiguration"]
    enc = rt.create_encoder_configuration(video={"width": 1920, "height": 1080})["encoderConfiguration"]
    stage = rt.create_stage(name="show")["stage"]
    return {"sc": sc["arn"], "enc": enc["arn"], "stage": stage["arn"]}


def s3_dest(env, **extra):
    d = {"storageConfigurationArn": env["sc"], "encoderConfigurationArns": [env["enc"]]}
    d.update(extra)
    return {"s3": d}


def channel(api_server, name="out"):
    ivs = api_server.client("ivs")
    try:
        return ivs.create_channel(name=name)["channel"]["arn"]
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] == "NotImplementedException":
            pytest.skip("the IVS handlers do not create channels in this build")
        raise


# --- Lifecycle ----------------------------------------------------------------------------------

def test_start_composition_with_every_member_then_get_and_compare(api_server, rt, env):
    ch = channel(api_server)
    resp = rt.start_composition(
        stageArn=env["stage"], idempotencyToken="every-member",
        layout={"pip": {"featuredParticipantAttribute": "featured", "omitStoppedVideo": True, "videoFillMode": "CONTAIN",
                        "gridGap": 4, "pipParticipantAttribute": "pip", "pipBehavior": "DYNAMIC", "pipOffset": 8,
                        "pipPosition": "TOP_LEFT", "pipWidth": 320, "pipHeight": 180}},
        destinations=[
            {"name": "live", "channel": {"channelArn": ch, "encoderConfigurationArn": env["enc"]}},
            {"name": "archive", "s3": {"storageConfigurationArn": env["sc"], "encoderConfigurationArns": [env["enc"]],
                                       "recordingConfiguration": {"format": "HLS", "hlsConfiguration": {"targetSegmentDurationSeconds": 4}},
                                       "thumbnailConfigurations": [{"targetIntervalSeconds": 10, "storage": ["SEQUENTIAL", "LATEST"]}]}},
        ],
        tags={"show": "1"},
    )
    comp = resp["composition"]
    stage_id = env["stage"].rsplit("/", 1)[1]
    comp_id = comp["arn"].rsplit("/", 1)[1]
    assert comp["arn"].startswith(f"arn:aws:ivs:us-east-1:{ACCOUNT}:composition/")
    assert comp["stageArn"] == env["stage"] and comp["state"] == "STARTING" and comp["tags"] == {"show": "1"}
    assert comp["layout"] == {"pip": {"featuredParticipantAttribute": "featured", "omitStoppedVideo": True,
                                      "videoFillMode": "CONTAIN", "gridGap": 4, "pipParticipantAttribute": "pip",
                                      "pipBehavior": "DYNAMIC", "pipOffset": 8, "pipPosition": "TOP_LEFT",
                                      "pipWidth": 320, "pipHeight": 180}}
    live, archive = comp["destinations"]
    assert live["configuration"] == {"name": "live", "channel": {"channelArn": ch, "encoderConfigurationArn": env["enc"]}}
    assert "detail" not in live
    assert archive["configuration"]["s3"]["thumbnailConfigurations"] == [{"targetIntervalSeconds": 10, "storage": ["SEQUENTIAL", "LATEST"]}]
    assert archive["configuration"]["s3"]["recordingConfiguration"] == {"format": "HLS", "hlsConfiguration": {"targetSegmentDurationSeconds": 4}}
    assert archive["detail"]["s3"]["recordingPrefix"] == f"{stage_id}/{comp_id}/{archive['id']}"
    assert {d["state"] for d in comp["destinations"]} == {"STARTING"}
    assert "endTime" not in comp
    got = rt.get_composition(arn=comp["arn"])["composition"]
    assert got["layout"] == comp["layout"] and got["destinations"][1]["configuration"] == archive["configuration"]
    # The channel is now taken by this composition.
    expect_error("ConflictException", 409, rt.start_composition, stageArn=env["stage"],
                 destinations=[{"channel": {"channelArn": ch}}])


def test_defaults_of_layout_and_s3_destination(rt, env):
    comp = rt.start_composition(stageArn=env["stage"], destinations=[s3_dest(env)])["composition"]
    assert comp["layout"] == {"grid": {"featuredParticipantAttribute": "", "omitStoppedVideo": False,
                                       "videoAspectRatio": "VIDEO", "gridGap": 2}}
    assert comp["destinations"][0]["configuration"]["s3"]["recordingConfiguration"] == {
        "format": "HLS", "hlsConfiguration": {"targetSegmentDurationSeconds": 2}}
    pip = rt.start_composition(stageArn=env["stage"], layout={"pip": {}}, destinations=[
        s3_dest(env, thumbnailConfigurations=[{}])])["composition"]
    assert pip["layout"] == {"pip": {"featuredParticipantAttribute": "", "omitStoppedVideo": False, "videoFillMode": "COVER",
                                     "gridGap": 0, "pipParticipantAttribute": "", "pipBehavior": "STATIC", "pipOffset": 0,
                                     "pipPosition": "BOTTOM_RIGHT"}}
    assert pip["destinations"][0]["configuration"]["s3"]["thumbnailConfigurations"] == [
        {"targetIntervalSeconds": 60, "storage": ["SEQUENTIAL"]}]


def test_idle_composition_stops_after_60s_and_disappears_5_minutes_later(api_server, rt, env):
    comp = rt.start_composition(stageArn=env["stage"], destinations=[s3_dest(env)])["composition"]
    arn = comp["arn"]
    advance_clock(api_server, 5)
    got = rt.get_composition(arn=arn)["composition"]
    assert got["state"] == "ACTIVE" and got["destinations"][0]["state"] == "ACTIVE"
    assert "startTime" in got["destinations"][0]
    advance_clock(api_server, 56)  # 61 s after start: past the 60 s idle timeout
    assert rt.get_composition(arn=arn)["composition"]["state"] == "STOPPING"
    advance_clock(api_server, 5)
    got = rt.get_composition(arn=arn)["composition"]
    assert got["state"] == "STOPPED" and got["destinations"][0]["state"] == "STOPPED"
    assert got["endTime"] > got["startTime"]
    assert [c["state"] for c in rt.list_compositions()["compositions"]] == ["STOPPED"]
    # While stopped, its configurations are free again.
    advance_clock(api_server, 290)
    assert rt.get_composition(arn=arn)["composition"]["state"] == "STOPPED"
    advance_clock(api_server, 10)
    expect_error("ResourceNotFoundException", 404, rt.get_composition, arn=arn)
    assert rt.list_compositions()["compositions"] == []
    expect_error("ResourceNotFoundException", 404, rt.stop_composition, arn=arn)


def test_stop_composition(api_server, rt, env):
    arn = rt.start_composition(stageArn=env["stage"], destinations=[s3_dest(env)])["composition"]["arn"]
    expect_error("ConflictException", 409, rt.delete_storage_configuration, arn=env["sc"])
    expect_error("ConflictException", 409, rt.delete_encoder_configuration, arn=env["enc"])
    rt.stop_composition(arn=arn)
    assert rt.get_composition(arn=arn)["composition"]["state"] == "STOPPING"
    rt.stop_composition(arn=arn)  # stopping twice is harmless
    advance_clock(api_server, 3)
    assert rt.get_composition(arn=arn)["composition"]["state"] == "STOPPED"
    rt.delete_encoder_configuration(arn=env["enc"])
    rt.delete_storage_configuration(arn=env["sc"])
    expect_error("ResourceNotFoundException", 404, rt.stop_composition,
                 arn=f"arn:aws:ivs:us-east-1:{ACCOUNT}:composition/missing")
    expect_error("ResourceNotFoundException", 404, rt.get_composition,
                 arn=f"arn:aws:ivs:us-east-1:{ACCOUNT}:composition/missing")


def test_deleting_the_stage_stops_its_compositions(api_server, rt, env):
    arn = rt.start_composition(stageArn=env["stage"], destinations=[s3_dest(env)])["composition"]["arn"]
    rt.delete_stage(arn=env["stage"])
    advance_clock(api_server, 3)
    assert rt.get_composition(arn=arn)["composition"]["state"] == "STOPPED"


def test_a_deleted_bucket_fails_the_composition(api_server, rt, env):
    arn = rt.start_composition(stageArn=env["stage"], destinations=[s3_dest(env)])["composition"]["arn"]
    api_server.client("s3").delete_bucket(Bucket="comp-bucket")
    got = rt.get_composition(arn=arn)["composition"]
    assert got["state"] == "FAILED" and got["destinations"][0]["state"] == "FAILED" and "endTime" in got
    advance_clock(api_server, 301)
    expect_error("ResourceNotFoundException", 404, rt.get_composition, arn=arn)


def test_idempotency_token(api_server, rt, env):
    a = rt.start_composition(stageArn=env["stage"], idempotencyToken="tok-1", destinations=[s3_dest(env)])["composition"]
    b = rt.start_composition(stageArn=env["stage"], idempotencyToken="tok-1", destinations=[s3_dest(env)])["composition"]
    assert a["arn"] == b["arn"]
    assert len(rt.list_compositions()["compositions"]) == 1
    expect_error("ConflictException", 409, rt.start_composition, stageArn=env["stage"], idempotencyToken="tok-1",
                 destinations=[s3_dest(env)], layout={"pip": {}})
    # botocore fills a fresh token when none is given: two calls, two compositions.
    rt.start_composition(stageArn=env["stage"], destinations=[s3_dest(env)])
    rt.start_composition(stageArn=env["stage"], destinations=[s3_dest(env)])
    assert len(rt.list_compositions()["compositions"]) == 3
    # Once the composition is gone the token starts a new one.
    advance_clock(api_server, 62 + 301)
    c = rt.start_composition(stageArn=env["stage"], idempotencyToken="tok-1", destinations=[s3_dest(env)])["composition"]
    assert c["arn"] != a["arn"]


def test_list_compositions_filters_and_pages(rt, env):
    other_stage = rt.create_stage()["stage"]["arn"]
    other_enc = rt.create_encoder_configuration()["encoderConfiguration"]["arn"]
    a = rt.start_composition(stageArn=env["stage"], destinations=[s3_dest(env)], tags={"n": "a"})["composition"]["arn"]
    b = rt.start_composition(stageArn=other_stage, destinations=[
        {"s3": {"storageConfigurationArn": env["sc"], "encoderConfigurationArns": [other_enc]}}])["composition"]["arn"]
    arns = lambda **kw: {c["arn"] for c in rt.list_compositions(**kw)["compositions"]}  # noqa: E731
    assert arns() == {a, b}
    assert arns(filterByStageArn=env["stage"]) == {a}
    assert arns(filterByEncoderConfigurationArn=other_enc) == {b}
    assert arns(filterByStageArn=env["stage"], filterByEncoderConfigurationArn=other_enc) == set()
    page = rt.list_compositions(maxResults=1)
    assert len(page["compositions"]) == 1 and page["nextToken"]
    rest = rt.list_compositions(maxResults=1, nextToken=page["nextToken"])
    assert {page["compositions"][0]["arn"], rest["compositions"][0]["arn"]} == {a, b}
    summary = [c for c in rt.list_compositions()["compositions"] if c["arn"] == a][0]
    assert summary["tags"] == {"n": "a"} and summary["stageArn"] == env["stage"]
    assert [set(d) for d in summary["destinations"]] == [{"id", "state"}]


def test_start_composition_validation_failures(api_server, rt, env):
    missing = lambda t: f"arn:aws:ivs:us-east-1:{ACCOUNT}:{t}/missing"  # noqa: E731
    cases = [
        # (expected code, status, kwargs)
        ("ResourceNotFoundException", 404, {"stageArn": missing("stage"), "destinations": [s3_dest(env)]}),
        ("ValidationException", 400, {"destinations": []}),
        ("ValidationException", 400, {"destinations": [s3_dest(env)] * 3}),
        ("ValidationException", 400, {"destinations": [s3_dest(env), s3_dest(env)]}),
        ("ValidationException", 400, {"destinations": [{"name": "empty"}]}),
        ("ValidationException", 400, {"destinations": [dict(s3_dest(env), channel={"channelArn": missing("channel")})]}),
        ("ValidationException", 400, {"destinations": [{"s3": {"storageConfigurationArn": env["sc"], "encoderConfigurationArns": []}}]}),
        ("ValidationException", 400, {"destinations": [{"s3": {"storageConfigurationArn": env["sc"],
                                                               "encoderConfigurationArns": [env["enc"], env["enc"]]}}]}),
        ("ResourceNotFoundException", 404, {"destinations": [{"s3": {"storageConfigurationArn": missing("storage-configuration"),
                                                                     "encoderConfigurationArns": [env["enc"]]}}]}),
        ("ResourceNotFoundException", 404, {"destinations": [{"s3": {"storageConfigurationArn": env["sc"],
                                                                     "encoderConfigurationArns": [missing("encoder-configuration")]}}]}),
        ("ResourceNotFoundException", 404, {"destinations": [{"channel": {"channelArn": missing("channel")}}]}),
        ("ValidationException", 400, {"destinations": [s3_dest(env)], "layout": {"grid": {}, "pip": {}}}),
        ("ValidationException", 400, {"destinations": [s3_dest(env)], "layout": {"grid": {"gridGap": -1}}}),
        ("ValidationException", 400, {"destinations": [s3_dest(env)], "layout": {"grid": {"videoAspectRatio": "WIDE"}}}),
        ("ValidationException", 400, {"destinations": [s3_dest(env)], "layout": {"pip": {"pipWidth": 0}}}),
        ("ValidationException", 400, {"destinations": [s3_dest(env)], "layout": {"pip": {"pipOffset": -1}}}),
        ("ValidationException", 400, {"destinations": [s3_dest(env)],
                                      "layout": {"pip": {"featuredParticipantAttribute": "x", "pipParticipantAttribute": "x"}}}),
        ("ValidationException", 400, {"destinations": [s3_dest(env, recordingConfiguration={"hlsConfiguration": {"targetSegmentDurationSeconds": 11}})]}),
        ("ValidationException", 400, {"destinations": [s3_dest(env, recordingConfiguration={"format": "MP4"})]}),
        ("ValidationException", 400, {"destinations": [s3_dest(env, thumbnailConfigurations=[{}, {}])]}),
        ("ValidationException", 400, {"destinations": [s3_dest(env, thumbnailConfigurations=[{"targetIntervalSeconds": 0}])]}),
        ("ValidationException", 400, {"destinations": [s3_dest(env, thumbnailConfigurations=[{"storage": ["LATEST", "LATEST"]}])]}),
        ("ValidationException", 400, {"destinations": [s3_dest(env)], "idempotencyToken": "bad token"}),
        ("ValidationException", 400, {"destinations": [s3_dest(env)], "tags": {"aws:x": "y"}}),
    ]
    for code, status, kw in cases:
        kw.setdefault("stageArn", env["stage"])
        expect_error(code, status, rt.start_composition, **kw)
    assert rt.list_compositions()["compositions"] == []
    # A bucket deleted after its storage configuration was created.
    api_server.client("s3").delete_bucket(Bucket="comp-bucket")
    expect_error("ResourceNotFoundException", 404, rt.start_composition, stageArn=env["stage"], destinations=[s3_dest(env)])


def test_channel_destination_rules(api_server, rt, env):
    ch = channel(api_server, "solo")
    comp = rt.start_composition(stageArn=env["stage"], destinations=[{"channel": {"channelArn": ch}}])["composition"]
    assert comp["destinations"][0]["configuration"] == {"channel": {"channelArn": ch}}
    expect_error("ValidationException", 400, rt.start_composition, stageArn=env["stage"],
                 destinations=[{"channel": {"channelArn": ch}}, {"channel": {"channelArn": ch}}])
    rt.stop_composition(arn=comp["arn"])
    advance_clock(api_server, 3)
    # Stopped: the channel can be used again; a deleted channel fails its composition.
    again = rt.start_composition(stageArn=env["stage"], destinations=[{"channel": {"channelArn": ch}}])["composition"]
    api_server.client("ivs").delete_channel(arn=ch)
    assert rt.get_composition(arn=again["arn"])["composition"]["state"] == "FAILED"


# --- Replication --------------------------------------------------------------------------------

def test_participant_replication(rt):
    src = rt.create_stage(name="src")["stage"]["arn"]
    dsts = [rt.create_stage(name=f"dst{i}")["stage"]["arn"] for i in range(3)]
    for d in dsts:
        rt.start_participant_replication(sourceStageArn=src, destinationStageArn=d, participantId="p1",
                                         reconnectWindowSeconds=30, attributes={"replica": "true"})
    expect_error("ConflictException", 409, rt.start_participant_replication, sourceStageArn=src,
                 destinationStageArn=dsts[0], participantId="p1")
    pages = list(rt.get_paginator("list_participant_replicas").paginate(
        sourceStageArn=src, participantId="p1", PaginationConfig={"PageSize": 2}))
    assert [len(p["replicas"]) for p in pages] == [2, 1]
    replicas = [r for p in pages for r in p["replicas"]]
    assert {r["destinationStageArn"] for r in replicas} == set(dsts)
    assert all(r["replicationState"] == "ACTIVE" and r["sourceStageArn"] == src and r["participantId"] == "p1"
               for r in replicas)
    assert rt.list_participant_replicas(sourceStageArn=src, participantId="p2")["replicas"] == []
    rt.stop_participant_replication(sourceStageArn=src, destinationStageArn=dsts[0], participantId="p1")
    states = {r["destinationStageArn"]: r["replicationState"]
              for r in rt.list_participant_replicas(sourceStageArn=src, participantId="p1")["replicas"]}
    assert states[dsts[0]] == "STOPPED" and states[dsts[1]] == "ACTIVE"
    expect_error("ResourceNotFoundException", 404, rt.stop_participant_replication, sourceStageArn=src,
                 destinationStageArn=dsts[0], participantId="p1")
    # Restarting a stopped replication works.
    rt.start_participant_replication(sourceStageArn=src, destinationStageArn=dsts[0], participantId="p1")


def test_participant_replication_errors(rt):
    src = rt.create_stage()["stage"]["arn"]
    missing = f"arn:aws:ivs:us-east-1:{ACCOUNT}:stage/missing"
    expect_error("ValidationException", 400, rt.start_participant_replication, sourceStageArn=src,
                 destinationStageArn=src, participantId="p")
    expect_error("ResourceNotFoundException", 404, rt.start_participant_replication, sourceStageArn=src,
                 destinationStageArn=missing, participantId="p")
    expect_error("ResourceNotFoundException", 404, rt.start_participant_replication, sourceStageArn=missing,
                 destinationStageArn=src, participantId="p")
    dst = rt.create_stage()["stage"]["arn"]
    expect_error("ValidationException", 400, rt.start_participant_replication, sourceStageArn=src,
                 destinationStageArn=dst, participantId="p", reconnectWindowSeconds=301)
    expect_error("ValidationException", 400, rt.start_participant_replication, sourceStageArn=src,
                 destinationStageArn=dst, participantId="p", attributes={"k": "v" * 1100})
    expect_error("ResourceNotFoundException", 404, rt.stop_participant_replication, sourceStageArn=src,
                 destinationStageArn=dst, participantId="p")
    expect_error("ValidationException", 400, rt.list_participant_replicas, sourceStageArn=src, participantId="p",
                 maxResults=51)


# --- Sessions, participants, events ---------------------------------------------------------------

def test_sessions_participants_and_events_before_any_media(rt):
    stage = rt.create_stage()["stage"]["arn"]
    session = "st-" + "a" * 13
    assert rt.list_stage_sessions(stageArn=stage)["stageSessions"] == []
    assert rt.list_participants(stageArn=stage, sessionId=session)["participants"] == []
    assert rt.list_participants(stageArn=stage, sessionId=session, filterByState="CONNECTED")["participants"] == []
    assert rt.list_participant_events(stageArn=stage, sessionId=session, participantId="p")["events"] == []
    expect_error("ResourceNotFoundException", 404, rt.get_stage_session, stageArn=stage, sessionId=session)
    expect_error("ResourceNotFoundException", 404, rt.get_participant, stageArn=stage, sessionId=session, participantId="p")
    missing = f"arn:aws:ivs:us-east-1:{ACCOUNT}:stage/missing"
    expect_error("ResourceNotFoundException", 404, rt.get_stage_session, stageArn=missing, sessionId=session)
    expect_error("ValidationException", 400, rt.get_stage_session, stageArn=stage, sessionId="st-short")
    expect_error("ValidationException", 400, rt.get_stage_session, stageArn=stage, sessionId="xx-" + "a" * 13)
    expect_error("ValidationException", 400, rt.list_participants, stageArn=stage, sessionId=session,
                 filterByUserId="u", filterByPublished=True)
    expect_error("ValidationException", 400, rt.list_participants, stageArn=stage, sessionId=session,
                 filterByState="GONE")
    expect_error("ValidationException", 400, rt.list_participant_events, stageArn=stage, sessionId=session,
                 participantId="p", maxResults=101)
    expect_error("ValidationException", 400, rt.list_stage_sessions, stageArn=stage, maxResults=0)
