"""IVS Real-Time with boto3: stages, participant tokens, public keys, encoder / storage / ingest
configurations, tags, pagination, errors, persistence. Runs on SQLite and PostgreSQL."""
import base64
import json
import subprocess

import botocore.exceptions
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import Reelay, backend_args, reset


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def expect_error(code, status, fn, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kwargs)
    assert code_of(e) == (code, status), e.value.response
    # IVS carries the message in `exceptionMessage`, which botocore lifts to the top level.
    return e.value.response.get("exceptionMessage") or e.value.response["Error"].get("Message", "")


def p384_pem():
    key = ec.generate_private_key(ec.SECP384R1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, pem.decode()


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture(scope="module")
def rt(api_server):
    # No client-side checks: reelay must refuse bad input itself.
    return api_server.client("ivs-realtime", parameter_validation=False)


@pytest.fixture(scope="module")
def s3(api_server):
    return api_server.client("s3")


@pytest.fixture(autouse=True)
def clean(api_server):
    reset(api_server)


def storage_config(rt, s3, bucket="ivsrt-bucket", **kw):
    s3.create_bucket(Bucket=bucket)
    return rt.create_storage_configuration(s3={"bucketName": bucket}, **kw)["storageConfiguration"]


# --- Stages -----------------------------------------------------------------------------------

def test_create_stage_with_every_member_then_get_and_compare(rt, s3, api_server):
    sc = storage_config(rt, s3)
    resp = rt.create_stage(
        name="stage-1",
        participantTokenConfigurations=[
            {"duration": 60, "userId": "alice", "attributes": {"role": "host"}, "capabilities": ["PUBLISH", "SUBSCRIBE"]},
            {"userId": "bob", "capabilities": ["SUBSCRIBE"]},
        ],
        tags={"team": "video"},
        autoParticipantRecordingConfiguration={
            "storageConfigurationArn": sc["arn"],
            "mediaTypes": ["NONE"],
            "thumbnailConfiguration": {"targetIntervalSeconds": 15, "storage": ["SEQUENTIAL", "LATEST"], "recordingMode": "INTERVAL"},
            "recordingReconnectWindowSeconds": 30,
            "hlsConfiguration": {"targetSegmentDurationSeconds": 4},
            "recordParticipantReplicas": False,
        },
    )
    stage = resp["stage"]
    assert stage["arn"].startswith("arn:aws:ivs:us-east-1:000000000000:stage/")
    assert stage["name"] == "stage-1"
    assert stage["tags"] == {"team": "video"}
    assert "activeSessionId" not in stage
    assert stage["autoParticipantRecordingConfiguration"] == {
        "storageConfigurationArn": sc["arn"],
        "mediaTypes": ["NONE"],
        "thumbnailConfiguration": {"targetIntervalSeconds": 15, "storage": ["SEQUENTIAL", "LATEST"], "recordingMode": "INTERVAL"},
        "recordingReconnectWindowSeconds": 30,
        "hlsConfiguration": {"targetSegmentDurationSeconds": 4},
        "recordParticipantReplicas": False,
    }
    stage_id = stage["arn"].rsplit("/", 1)[1]
    host = api_server.url.split("://", 1)[1]
    assert stage["endpoints"]["whip"] == f"{api_server.url}/ivs-realtime/whip/{stage_id}"
    assert stage["endpoints"]["events"] == f"ws://{host}/ivs-realtime/events"
    assert stage["endpoints"]["rtmp"].startswith("rtmp://") and stage["endpoints"]["rtmp"].endswith("/app/")
    tokens = resp["participantTokens"]
    assert [t["userId"] for t in tokens] == ["alice", "bob"]
    assert tokens[0]["duration"] == 60 and tokens[1]["duration"] == 720
    assert tokens[0]["attributes"] == {"role": "host"}
    assert tokens[1]["capabilities"] == ["SUBSCRIBE"]
    assert len({t["participantId"] for t in tokens}) == 2
    got = rt.get_stage(arn=stage["arn"])["stage"]
    assert got == stage


def test_stage_defaults(rt):
    resp = rt.create_stage()
    stage = resp["stage"]
    assert resp["participantTokens"] == []
    assert stage["name"] == ""
    assert stage["tags"] == {}
    assert stage["autoParticipantRecordingConfiguration"] == {
        "storageConfigurationArn": "",
        "mediaTypes": ["AUDIO_VIDEO"],
        "thumbnailConfiguration": {"targetIntervalSeconds": 60, "storage": ["SEQUENTIAL"], "recordingMode": "DISABLED"},
        "recordingReconnectWindowSeconds": 0,
        "hlsConfiguration": {"targetSegmentDurationSeconds": 6},
        "recordParticipantReplicas": True,
    }


def test_stage_validation_errors(rt):
    expect_error("ValidationException", 400, rt.create_stage, name="bad name!")
    expect_error("ValidationException", 400, rt.create_stage, participantTokenConfigurations=[{}] * 13)
    expect_error("ValidationException", 400, rt.create_stage, participantTokenConfigurations=[{"duration": 20161}])
    expect_error("ValidationException", 400, rt.create_stage, participantTokenConfigurations=[{"duration": 0}])
    expect_error("ValidationException", 400, rt.create_stage,
                 participantTokenConfigurations=[{"attributes": {"k": "v" * 1100}}])
    missing = "arn:aws:ivs:us-east-1:000000000000:storage-configuration/nope"
    expect_error("ValidationException", 400, rt.create_stage,
                 autoParticipantRecordingConfiguration={"storageConfigurationArn": missing})
    expect_error("ValidationException", 400, rt.create_stage,
                 autoParticipantRecordingConfiguration={"storageConfigurationArn": "", "mediaTypes": ["NONE"]})
    expect_error("ValidationException", 400, rt.create_stage,
                 autoParticipantRecordingConfiguration={"storageConfigurationArn": "",
                                                        "thumbnailConfiguration": {"targetIntervalSeconds": 5}})
    expect_error("ValidationException", 400, rt.create_stage,
                 autoParticipantRecordingConfiguration={"storageConfigurationArn": "", "recordingReconnectWindowSeconds": 301})
    expect_error("ValidationException", 400, rt.create_stage, tags={"aws:reserved": "x"})
    assert rt.list_stages()["stages"] == []


def test_get_update_delete_unknown_stage(rt):
    arn = "arn:aws:ivs:us-east-1:000000000000:stage/missing"
    expect_error("ResourceNotFoundException", 404, rt.get_stage, arn=arn)
    expect_error("ResourceNotFoundException", 404, rt.update_stage, arn=arn, name="x")
    expect_error("ResourceNotFoundException", 404, rt.delete_stage, arn=arn)
    expect_error("ResourceNotFoundException", 404, rt.create_participant_token, stageArn=arn)
    expect_error("ValidationException", 400, rt.get_stage, arn="arn:aws:ivs:us-east-1:000000000000:channel/x")


def test_stages_are_scoped_per_region(api_server, rt):
    stage = rt.create_stage(name="east")["stage"]
    west = api_server.client("ivs-realtime", region="us-west-2")
    assert west.list_stages()["stages"] == []
    expect_error("ResourceNotFoundException", 404, west.get_stage, arn=stage["arn"])


def test_update_stage(rt, s3):
    stage = rt.create_stage(name="before", tags={"k": "v"})["stage"]
    sc = storage_config(rt, s3)
    up = rt.update_stage(arn=stage["arn"], name="after",
                         autoParticipantRecordingConfiguration={"storageConfigurationArn": sc["arn"], "mediaTypes": ["AUDIO_ONLY"]})["stage"]
    assert up["name"] == "after"
    assert up["tags"] == {"k": "v"}
    assert up["autoParticipantRecordingConfiguration"]["storageConfigurationArn"] == sc["arn"]
    assert up["autoParticipantRecordingConfiguration"]["mediaTypes"] == ["AUDIO_ONLY"]
    assert rt.get_stage(arn=stage["arn"])["stage"] == up
    # Name only keeps the recording configuration.
    up2 = rt.update_stage(arn=stage["arn"], name="again")["stage"]
    assert up2["autoParticipantRecordingConfiguration"] == up["autoParticipantRecordingConfiguration"]
    expect_error("ValidationException", 400, rt.update_stage, arn=stage["arn"],
                 autoParticipantRecordingConfiguration={"storageConfigurationArn": sc["arn"] + "x"})


def test_list_stages_paginates_with_next_token(rt):
    arns = {rt.create_stage(name=f"s{i}", tags={"i": str(i)})["stage"]["arn"] for i in range(5)}
    seen, token, pages = [], None, 0
    while True:
        kw = {"maxResults": 2}
        if token:
            kw["nextToken"] = token
        page = rt.list_stages(**kw)
        pages += 1
        assert len(page["stages"]) <= 2
        seen += page["stages"]
        token = page.get("nextToken")
        if not token:
            break
    assert pages == 3
    assert {s["arn"] for s in seen} == arns
    assert all(s["tags"]["i"] == s["name"][1:] for s in seen)
    expect_error("ValidationException", 400, rt.list_stages, nextToken="garbage")
    expect_error("ValidationException", 400, rt.list_stages, maxResults=101)


def test_delete_stage(rt):
    stage = rt.create_stage()["stage"]
    rt.delete_stage(arn=stage["arn"])
    expect_error("ResourceNotFoundException", 404, rt.get_stage, arn=stage["arn"])
    expect_error("ResourceNotFoundException", 404, rt.delete_stage, arn=stage["arn"])


# --- Participant tokens -------------------------------------------------------------------------

def test_create_participant_token_claims(rt, api_server):
    stage = rt.create_stage(name="tok")["stage"]
    tok = rt.create_participant_token(stageArn=stage["arn"], duration=90, userId="carol",
                                      attributes={"seat": "1"}, capabilities=["PUBLISH"])["participantToken"]
    assert tok["userId"] == "carol" and tok["duration"] == 90 and tok["capabilities"] == ["PUBLISH"]
    assert tok["attributes"] == {"seat": "1"}
    header = json.loads(base64.urlsafe_b64decode(tok["token"].split(".")[0] + "=="))
    assert header["alg"] == "ES384" and header["typ"] == "JWT"
    c = claims_of(tok["token"])
    stage_id = stage["arn"].rsplit("/", 1)[1]
    assert c["jti"] == tok["participantId"]
    assert c["resource"] == stage["arn"]
    assert c["topic"] == stage_id
    assert c["whip_url"] == stage["endpoints"]["whip"]
    assert c["events_url"] == stage["endpoints"]["events"]
    assert c["user_id"] == "carol"
    assert c["attributes"] == {"seat": "1"}
    assert c["capabilities"] == {"allow_publish": True, "allow_subscribe": False}
    assert c["version"] == "1.0"
    assert c["exp"] - c["iat"] == 90 * 60
    assert int(tok["expirationTime"].timestamp()) == c["exp"]
    default = rt.create_participant_token(stageArn=stage["arn"])["participantToken"]
    assert default["duration"] == 720
    assert default["capabilities"] == ["PUBLISH", "SUBSCRIBE"]
    assert claims_of(default["token"])["capabilities"] == {"allow_publish": True, "allow_subscribe": True}


def test_participant_token_errors(rt):
    stage = rt.create_stage()["stage"]
    expect_error("ValidationException", 400, rt.create_participant_token, stageArn=stage["arn"], duration=20161)
    expect_error("ValidationException", 400, rt.create_participant_token, stageArn=stage["arn"], duration=0)
    expect_error("ValidationException", 400, rt.create_participant_token, stageArn=stage["arn"], userId="u" * 129)
    expect_error("ValidationException", 400, rt.create_participant_token, stageArn=stage["arn"],
                 attributes={f"k{i}": "v" * 100 for i in range(11)})
    expect_error("ValidationException", 400, rt.create_participant_token, stageArn=stage["arn"],
                 capabilities=["PUBLISH", "PUBLISH"])
    expect_error("ValidationException", 400, rt.create_participant_token, stageArn=stage["arn"], capabilities=["ADMIN"])
    assert rt.create_participant_token(stageArn=stage["arn"], duration=20160)["participantToken"]["duration"] == 20160


# --- Public keys --------------------------------------------------------------------------------

def test_public_key_lifecycle(rt):
    _, pem = p384_pem()
    pk = rt.import_public_key(publicKeyMaterial=pem, name="signer", tags={"a": "1"})["publicKey"]
    assert pk["arn"].startswith("arn:aws:ivs:us-east-1:000000000000:public-key/")
    assert pk["name"] == "signer" and pk["tags"] == {"a": "1"} and pk["publicKeyMaterial"] == pem
    assert len(pk["fingerprint"].split(":")) == 16
    assert rt.get_public_key(arn=pk["arn"])["publicKey"] == pk
    assert rt.list_public_keys()["publicKeys"] == [{"arn": pk["arn"], "name": "signer", "tags": {"a": "1"}}]
    expect_error("ConflictException", 409, rt.import_public_key, publicKeyMaterial=pem)
    rt.delete_public_key(arn=pk["arn"])
    expect_error("ResourceNotFoundException", 404, rt.get_public_key, arn=pk["arn"])
    expect_error("ResourceNotFoundException", 404, rt.delete_public_key, arn=pk["arn"])


def test_public_key_errors(rt):
    expect_error("ValidationException", 400, rt.import_public_key, publicKeyMaterial="not a key")
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    expect_error("ValidationException", 400, rt.import_public_key, publicKeyMaterial=p256)
    expect_error("ValidationException", 400, rt.import_public_key,
                 publicKeyMaterial="-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
    expect_error("ValidationException", 400, rt.import_public_key, publicKeyMaterial=p384_pem()[1], name="bad name")


def test_list_public_keys_paginator(rt):
    arns = {rt.import_public_key(publicKeyMaterial=p384_pem()[1], name=f"k{i}")["publicKey"]["arn"] for i in range(5)}
    pages = list(rt.get_paginator("list_public_keys").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["publicKeys"]) for p in pages] == [2, 2, 1]
    assert {k["arn"] for p in pages for k in p["publicKeys"]} == arns


# --- Encoder configurations ---------------------------------------------------------------------

def test_encoder_configuration_lifecycle_and_defaults(rt):
    full = rt.create_encoder_configuration(
        name="hd", video={"width": 1920, "height": 1080, "framerate": 60, "bitrate": 8500000}, tags={"q": "hd"}
    )["encoderConfiguration"]
    assert full["video"] == {"width": 1920, "height": 1080, "framerate": 60.0, "bitrate": 8500000}
    assert full["name"] == "hd" and full["tags"] == {"q": "hd"}
    assert rt.get_encoder_configuration(arn=full["arn"])["encoderConfiguration"] == full
    default = rt.create_encoder_configuration()["encoderConfiguration"]
    assert default["video"] == {"width": 1280, "height": 720, "framerate": 30.0, "bitrate": 2500000}
    assert default["name"] == ""
    listed = rt.list_encoder_configurations()["encoderConfigurations"]
    assert {e["arn"] for e in listed} == {full["arn"], default["arn"]}
    assert all("video" not in e for e in listed)
    page = rt.list_encoder_configurations(maxResults=1)
    assert len(page["encoderConfigurations"]) == 1
    page2 = rt.list_encoder_configurations(maxResults=1, nextToken=page["nextToken"])
    assert "nextToken" not in page2
    rt.delete_encoder_configuration(arn=default["arn"])
    expect_error("ResourceNotFoundException", 404, rt.get_encoder_configuration, arn=default["arn"])
    expect_error("ResourceNotFoundException", 404, rt.delete_encoder_configuration, arn=default["arn"])


def test_encoder_configuration_validation(rt):
    for video in ({"width": 1281}, {"height": 721}, {"width": 1920, "height": 1920}, {"width": 1},
                  {"width": 1922}, {"framerate": 61}, {"framerate": 0.5}, {"bitrate": 8500001}, {"bitrate": 0}):
        expect_error("ValidationException", 400, rt.create_encoder_configuration, video=video)
    portrait = rt.create_encoder_configuration(video={"width": 1080, "height": 1920})["encoderConfiguration"]
    assert portrait["video"]["width"] == 1080


def test_encoder_configuration_quota_is_402(rt):
    for _ in range(20):
        rt.create_encoder_configuration()
    msg = expect_error("ServiceQuotaExceededException", 402, rt.create_encoder_configuration)
    assert "20" in msg


# --- Storage configurations ---------------------------------------------------------------------

def test_storage_configuration_lifecycle(rt, s3):
    sc = storage_config(rt, s3, name="store", tags={"t": "1"})
    assert sc["s3"] == {"bucketName": "ivsrt-bucket"} and sc["name"] == "store" and sc["tags"] == {"t": "1"}
    assert rt.get_storage_configuration(arn=sc["arn"])["storageConfiguration"] == sc
    assert rt.list_storage_configurations()["storageConfigurations"] == [sc]
    rt.delete_storage_configuration(arn=sc["arn"])
    expect_error("ResourceNotFoundException", 404, rt.get_storage_configuration, arn=sc["arn"])
    expect_error("ResourceNotFoundException", 404, rt.delete_storage_configuration, arn=sc["arn"])


def test_storage_configuration_errors(rt, s3):
    expect_error("ResourceNotFoundException", 404, rt.create_storage_configuration, s3={"bucketName": "no-such-bucket"})
    expect_error("ValidationException", 400, rt.create_storage_configuration, s3={"bucketName": "Bad_Bucket"})
    expect_error("ValidationException", 400, rt.create_storage_configuration, s3={"bucketName": "ab"})
    sc = storage_config(rt, s3)
    stage = rt.create_stage(autoParticipantRecordingConfiguration={"storageConfigurationArn": sc["arn"]})["stage"]
    expect_error("ConflictException", 409, rt.delete_storage_configuration, arn=sc["arn"])
    rt.update_stage(arn=stage["arn"], autoParticipantRecordingConfiguration={"storageConfigurationArn": ""})
    rt.delete_storage_configuration(arn=sc["arn"])


# --- Ingest configurations ----------------------------------------------------------------------

def test_ingest_configuration_lifecycle(rt):
    stage = rt.create_stage()["stage"]
    ic = rt.create_ingest_configuration(
        name="obs", stageArn=stage["arn"], userId="streamer", attributes={"k": "v"}, ingestProtocol="RTMPS",
        insecureIngest=False, redundantIngest=False, tags={"t": "x"},
    )["ingestConfiguration"]
    ic_id = ic["arn"].rsplit("/", 1)[1]
    assert ic["arn"].startswith("arn:aws:ivs:us-east-1:000000000000:ingest-configuration/")
    assert ic["streamKey"].startswith(f"rt_000000000000_us-east-1_{ic_id}_")
    assert ic["state"] == "INACTIVE" and ic["ingestProtocol"] == "RTMPS" and ic["stageArn"] == stage["arn"]
    assert ic["userId"] == "streamer" and ic["attributes"] == {"k": "v"} and ic["tags"] == {"t": "x"}
    assert ic["name"] == "obs" and ic["redundantIngest"] is False and len(ic["participantId"]) > 0
    assert rt.get_ingest_configuration(arn=ic["arn"])["ingestConfiguration"] == ic
    listed = rt.list_ingest_configurations()["ingestConfigurations"]
    assert listed == [{k: ic[k] for k in ("arn", "ingestProtocol", "name", "participantId", "redundantIngest",
                                          "stageArn", "state", "userId")}]
    other = rt.create_stage()["stage"]
    up = rt.update_ingest_configuration(arn=ic["arn"], stageArn=other["arn"], redundantIngest=True)["ingestConfiguration"]
    assert up["stageArn"] == other["arn"] and up["redundantIngest"] is True
    assert len(up["redundantIngestCredentials"]) == 1
    assert up["redundantIngestCredentials"][0]["streamKey"].startswith(f"rt_000000000000_us-east-1_{ic_id}_")
    assert up["streamKey"] == ic["streamKey"]
    assert [i["arn"] for i in rt.list_ingest_configurations(filterByStageArn=other["arn"])["ingestConfigurations"]] == [ic["arn"]]
    assert rt.list_ingest_configurations(filterByStageArn=stage["arn"])["ingestConfigurations"] == []
    assert len(rt.list_ingest_configurations(filterByState="INACTIVE")["ingestConfigurations"]) == 1
    assert rt.list_ingest_configurations(filterByState="ACTIVE")["ingestConfigurations"] == []
    # Deleting the stage detaches it.
    rt.delete_stage(arn=other["arn"])
    assert rt.get_ingest_configuration(arn=ic["arn"])["ingestConfiguration"]["stageArn"] == ""
    rt.delete_ingest_configuration(arn=ic["arn"])
    expect_error("ResourceNotFoundException", 404, rt.get_ingest_configuration, arn=ic["arn"])
    expect_error("ResourceNotFoundException", 404, rt.delete_ingest_configuration, arn=ic["arn"])
    expect_error("ResourceNotFoundException", 404, rt.update_ingest_configuration, arn=ic["arn"], stageArn="")


def test_ingest_configuration_errors_and_defaults(rt):
    expect_error("ValidationException", 400, rt.create_ingest_configuration, ingestProtocol="RTMP")
    expect_error("ValidationException", 400, rt.create_ingest_configuration, ingestProtocol="SRT")
    expect_error("ValidationException", 400, rt.create_ingest_configuration, ingestProtocol="RTMPS",
                 stageArn="arn:aws:ivs:us-east-1:000000000000:stage/none")
    expect_error("ValidationException", 400, rt.create_ingest_configuration, ingestProtocol="RTMPS",
                 attributes={"k": "v" * 1100})
    expect_error("ValidationException", 400, rt.list_ingest_configurations,
                 filterByStageArn="arn:aws:ivs:us-east-1:000000000000:stage/x", filterByState="ACTIVE")
    ic = rt.create_ingest_configuration(ingestProtocol="RTMP", insecureIngest=True)["ingestConfiguration"]
    assert ic["stageArn"] == "" and ic["name"] == "" and ic["userId"] == "" and ic["attributes"] == {}
    assert ic["redundantIngest"] is False and "redundantIngestCredentials" not in ic
    expect_error("ResourceNotFoundException", 404, rt.update_ingest_configuration, arn=ic["arn"],
                 stageArn="arn:aws:ivs:us-east-1:000000000000:stage/none")


def test_list_ingest_configurations_paginator(rt):
    for i in range(5):
        rt.create_ingest_configuration(ingestProtocol="RTMPS", name=f"i{i}")
    pages = list(rt.get_paginator("list_ingest_configurations").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["ingestConfigurations"]) for p in pages] == [2, 2, 1]
    assert sorted(i["name"] for p in pages for i in p["ingestConfigurations"]) == [f"i{i}" for i in range(5)]


# --- Tags ---------------------------------------------------------------------------------------

def test_tags_on_every_resource_type(rt, s3):
    sc = storage_config(rt, s3)
    enc = rt.create_encoder_configuration()["encoderConfiguration"]
    stage = rt.create_stage()["stage"]
    comp = rt.start_composition(stageArn=stage["arn"], destinations=[
        {"s3": {"storageConfigurationArn": sc["arn"], "encoderConfigurationArns": [enc["arn"]]}}])["composition"]
    arns = [
        stage["arn"], sc["arn"], enc["arn"], comp["arn"],
        rt.import_public_key(publicKeyMaterial=p384_pem()[1])["publicKey"]["arn"],
        rt.create_ingest_configuration(ingestProtocol="RTMPS")["ingestConfiguration"]["arn"],
    ]
    for arn in arns:
        rt.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2"})
        assert rt.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "2"}
        rt.untag_resource(resourceArn=arn, tagKeys=["a", "never-set"])
        assert rt.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    assert rt.get_stage(arn=stage["arn"])["stage"]["tags"] == {"b": "2"}


def test_tag_errors(rt):
    stage = rt.create_stage()["stage"]
    missing = "arn:aws:ivs:us-east-1:000000000000:stage/missing"
    expect_error("ResourceNotFoundException", 404, rt.tag_resource, resourceArn=missing, tags={"a": "b"})
    expect_error("ResourceNotFoundException", 404, rt.untag_resource, resourceArn=missing, tagKeys=["a"])
    expect_error("ResourceNotFoundException", 404, rt.list_tags_for_resource, resourceArn=missing)
    expect_error("ValidationException", 400, rt.tag_resource, resourceArn=stage["arn"],
                 tags={f"k{i}": "v" for i in range(51)})
    expect_error("ValidationException", 400, rt.tag_resource, resourceArn=stage["arn"], tags={"k" * 129: "v"})
    expect_error("ValidationException", 400, rt.tag_resource, resourceArn=stage["arn"], tags={"k": "v" * 257})
    expect_error("ValidationException", 400, rt.tag_resource, resourceArn=stage["arn"], tags={"aws:x": "v"})
    rt.tag_resource(resourceArn=stage["arn"], tags={f"k{i}": "v" for i in range(50)})
    expect_error("ValidationException", 400, rt.tag_resource, resourceArn=stage["arn"], tags={"one-more": "v"})


# --- Persistence --------------------------------------------------------------------------------

def test_state_survives_a_restart(api_server, tmp_path):
    args = backend_args(api_server.backend)
    first = Reelay(*args, data_dir=str(tmp_path)).start()
    try:
        c = first.client("ivs-realtime")
        first.client("s3").create_bucket(Bucket="persist")
        sc = c.create_storage_configuration(s3={"bucketName": "persist"}, name="p")["storageConfiguration"]
        stage = c.create_stage(name="durable", tags={"k": "v"},
                               autoParticipantRecordingConfiguration={"storageConfigurationArn": sc["arn"]})["stage"]
        enc = c.create_encoder_configuration(name="e")["encoderConfiguration"]
        pk = c.import_public_key(publicKeyMaterial=p384_pem()[1])["publicKey"]
        ic = c.create_ingest_configuration(ingestProtocol="RTMPS", stageArn=stage["arn"])["ingestConfiguration"]
        comp = c.start_composition(stageArn=stage["arn"], idempotencyToken="persist-token", destinations=[
            {"s3": {"storageConfigurationArn": sc["arn"], "encoderConfigurationArns": [enc["arn"]]}}])["composition"]
        token = c.create_participant_token(stageArn=stage["arn"])["participantToken"]["token"]
    finally:
        first.stop()
    second = Reelay(*args, data_dir=str(tmp_path)).start()
    try:
        c = second.client("ivs-realtime")
        got = c.get_stage(arn=stage["arn"])["stage"]
        assert {k: got[k] for k in ("arn", "name", "tags", "autoParticipantRecordingConfiguration")} == \
               {k: stage[k] for k in ("arn", "name", "tags", "autoParticipantRecordingConfiguration")}
        assert c.get_storage_configuration(arn=sc["arn"])["storageConfiguration"] == sc
        assert c.get_encoder_configuration(arn=enc["arn"])["encoderConfiguration"] == enc
        assert c.get_public_key(arn=pk["arn"])["publicKey"] == pk
        assert c.get_ingest_configuration(arn=ic["arn"])["ingestConfiguration"] == ic
        assert c.get_composition(arn=comp["arn"])["composition"]["arn"] == comp["arn"]
        # The idempotency token still maps to the same composition.
        again = c.start_composition(stageArn=stage["arn"], idempotencyToken="persist-token", destinations=[
            {"s3": {"storageConfigurationArn": sc["arn"], "encoderConfigurationArns": [enc["arn"]]}}])["composition"]
        assert again["arn"] == comp["arn"]
        # A token minted before the restart still verifies (the signing key is persisted).
        url = args[1] if args else f"sqlite://{tmp_path}/reelay.db"
        from test_ivs_realtime_tokens import verify
        ok, out = verify(url, token)
        assert ok, out
    finally:
        second.close()


# --- AWS CLI ------------------------------------------------------------------------------------

def aws_cli(server, *args):
    import os
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
               AWS_PAGER="")
    p = subprocess.run(["aws", "--endpoint-url", server.url, "--output", "json", *args],
                       capture_output=True, text=True, env=env, timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_aws_cli_stage_round_trip(api_server):
    code, out, err = aws_cli(api_server, "ivs-realtime", "create-stage", "--name", "cli-stage",
                             "--participant-token-configurations", "userId=cli,capabilities=PUBLISH")
    assert code == 0, err
    created = json.loads(out)
    arn = created["stage"]["arn"]
    assert created["participantTokens"][0]["userId"] == "cli"
    code, out, err = aws_cli(api_server, "ivs-realtime", "get-stage", "--arn", arn)
    assert code == 0, err
    assert json.loads(out)["stage"]["name"] == "cli-stage"
    code, out, err = aws_cli(api_server, "ivs-realtime", "list-stages")
    assert code == 0, err
    assert [s["arn"] for s in json.loads(out)["stages"]] == [arn]
    code, out, err = aws_cli(api_server, "ivs-realtime", "get-stage", "--arn", arn + "x")
    assert code != 0 and "ResourceNotFoundException" in err
