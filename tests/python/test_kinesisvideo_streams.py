"""Kinesis Video Streams: streams, retention, storage tiers, tags, data endpoints, persistence.

Runs on SQLite and PostgreSQL (the `api_server` fixture); every test starts from a reset server.
"""
import datetime
import os
import subprocess
import tempfile

import botocore.exceptions
import pytest

from conftest import Reelay, advance_clock, backend_args, reset

MAX_RETENTION = 87600


@pytest.fixture(autouse=True)
def clean(api_server):
    reset(api_server)


@pytest.fixture
def kv(api_server):
    return api_server.client("kinesisvideo")


def error(fn, **kw):
    """Call and return (code, status, message) of the ClientError it must raise."""
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(**kw)
    r = ei.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message", "")


def version(kv, name):
    return kv.describe_stream(StreamName=name)["StreamInfo"]["Version"]


# --- CreateStream / DescribeStream ---------------------------------------------------------


def test_create_stream_defaults_and_describe_by_name_and_arn(kv, api_server):
    arn = kv.create_stream(StreamName="cam-1")["StreamARN"]
    assert arn.startswith("arn:aws:kinesisvideo:us-east-1:")
    assert ":stream/cam-1/" in arn and arn.rsplit("/", 1)[1].isdigit()
    info = kv.describe_stream(StreamName="cam-1")["StreamInfo"]
    assert info["StreamName"] == "cam-1"
    assert info["StreamARN"] == arn
    assert info["DataRetentionInHours"] == 0
    assert info["KmsKeyId"].endswith(":alias/aws/kinesisvideo")
    assert "DeviceName" not in info and "MediaType" not in info
    assert info["Version"].isalnum() and len(info["Version"]) == 12
    assert isinstance(info["CreationTime"], datetime.datetime)
    assert info["Status"] == "CREATING"
    advance_clock(api_server, 2)
    by_arn = kv.describe_stream(StreamARN=arn)["StreamInfo"]
    assert by_arn["Status"] == "ACTIVE"
    assert by_arn["CreationTime"] == info["CreationTime"]
    # Both given and naming the same stream is fine.
    assert kv.describe_stream(StreamName="cam-1", StreamARN=arn)["StreamInfo"]["StreamARN"] == arn


def test_create_stream_with_every_member_round_trips(kv):
    arn = kv.create_stream(
        StreamName="full",
        DeviceName="front-door",
        MediaType="video/h264,audio/aac",
        KmsKeyId="arn:aws:kms:us-east-1:123456789012:key/abcd",
        DataRetentionInHours=24,
        Tags={"team": "video", "env": "test"},
        StreamStorageConfiguration={"DefaultStorageTier": "WARM"},
    )["StreamARN"]
    info = kv.describe_stream(StreamARN=arn)["StreamInfo"]
    assert info["DeviceName"] == "front-door"
    assert info["MediaType"] == "video/h264,audio/aac"
    assert info["KmsKeyId"] == "arn:aws:kms:us-east-1:123456789012:key/abcd"
    assert info["DataRetentionInHours"] == 24
    assert kv.list_tags_for_stream(StreamARN=arn)["Tags"] == {"team": "video", "env": "test"}
    cfg = kv.describe_stream_storage_configuration(StreamName="full")
    assert cfg["StreamStorageConfiguration"] == {"DefaultStorageTier": "WARM"}
    assert cfg["StreamARN"] == arn and cfg["StreamName"] == "full"


def test_create_stream_errors(kv):
    kv.create_stream(StreamName="dup")
    assert error(kv.create_stream, StreamName="dup")[:2] == ("ResourceInUseException", 400)
    assert error(kv.create_stream, StreamName="big", DataRetentionInHours=MAX_RETENTION + 1)[:2] == (
        "InvalidArgumentException",
        400,
    )
    assert error(kv.create_stream, StreamName="bad name")[0] == "InvalidArgumentException"
    assert error(kv.create_stream, StreamName="m", MediaType="not a type")[0] == "InvalidArgumentException"
    assert error(kv.create_stream, StreamName="t", Tags={"aws:x": "y"})[0] == "InvalidArgumentException"
    too_many = {f"k{i}": "v" for i in range(51)}
    assert error(kv.create_stream, StreamName="t", Tags=too_many)[0] == "InvalidArgumentException"
    kv.create_stream(StreamName="max", DataRetentionInHours=MAX_RETENTION)


def test_describe_errors(kv, api_server):
    code, status, msg = error(kv.describe_stream, StreamName="nope")
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert "nope" in msg
    assert error(kv.describe_stream)[:2] == ("InvalidArgumentException", 400)
    arn = kv.create_stream(StreamName="a")["StreamARN"]
    kv.create_stream(StreamName="b")
    # Name and ARN naming different streams.
    assert error(kv.describe_stream, StreamName="b", StreamARN=arn)[0] == "InvalidArgumentException"
    # A channel ARN is not a stream ARN.
    chan = arn.replace(":stream/", ":channel/")
    assert error(kv.describe_stream, StreamARN=chan)[0] == "ResourceNotFoundException"
    # Another region does not see the stream.
    west = api_server.client("kinesisvideo", region="us-west-2")
    assert error(west.describe_stream, StreamName="a")[0] == "ResourceNotFoundException"
    assert west.list_streams()["StreamInfoList"] == []


# --- ListStreams ---------------------------------------------------------------------------


def test_list_streams_condition_and_paginator(kv):
    for name in ["alpha-1", "alpha-2", "alpha-3", "beta-1", "gamma"]:
        kv.create_stream(StreamName=name)
    names = [s["StreamName"] for s in kv.list_streams()["StreamInfoList"]]
    assert names == ["alpha-1", "alpha-2", "alpha-3", "beta-1", "gamma"]
    cond = {"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": "alpha"}
    assert [s["StreamName"] for s in kv.list_streams(StreamNameCondition=cond)["StreamInfoList"]] == [
        "alpha-1",
        "alpha-2",
        "alpha-3",
    ]
    page = kv.list_streams(MaxResults=2)
    assert len(page["StreamInfoList"]) == 2 and page["NextToken"]
    pages = list(kv.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["StreamInfoList"]) for p in pages] == [2, 2, 1]
    assert [s["StreamName"] for p in pages for s in p["StreamInfoList"]] == names
    filtered = kv.get_paginator("list_streams").paginate(StreamNameCondition=cond, PaginationConfig={"PageSize": 1})
    assert [s["StreamName"] for p in filtered for s in p["StreamInfoList"]] == ["alpha-1", "alpha-2", "alpha-3"]
    # A token continues only the walk it came from.
    token = kv.list_streams(MaxResults=1, StreamNameCondition=cond)["NextToken"]
    assert error(kv.list_streams, NextToken=token)[0] == "InvalidArgumentException"
    assert error(kv.list_streams, NextToken="AAAA")[0] == "InvalidArgumentException"
    assert error(kv.list_streams, MaxResults=10001)[0] == "InvalidArgumentException"


# --- Updates and CurrentVersion --------------------------------------------------------------


def test_update_stream_and_version_conflicts(kv):
    kv.create_stream(StreamName="u", DeviceName="old")
    v1 = version(kv, "u")
    kv.update_stream(StreamName="u", CurrentVersion=v1, DeviceName="new", MediaType="video/h265")
    info = kv.describe_stream(StreamName="u")["StreamInfo"]
    assert info["DeviceName"] == "new" and info["MediaType"] == "video/h265"
    assert info["Version"] != v1
    code, status, _ = error(kv.update_stream, StreamName="u", CurrentVersion=v1, DeviceName="x")
    assert (code, status) == ("VersionMismatchException", 400)
    assert kv.describe_stream(StreamName="u")["StreamInfo"]["DeviceName"] == "new"
    assert error(kv.update_stream, StreamName="gone", CurrentVersion="abc")[0] == "ResourceNotFoundException"


def test_update_data_retention(kv):
    kv.create_stream(StreamName="r", DataRetentionInHours=5)
    kv.update_data_retention(
        StreamName="r", CurrentVersion=version(kv, "r"), Operation="INCREASE_DATA_RETENTION", DataRetentionChangeInHours=3
    )
    assert kv.describe_stream(StreamName="r")["StreamInfo"]["DataRetentionInHours"] == 8
    kv.update_data_retention(
        StreamName="r", CurrentVersion=version(kv, "r"), Operation="DECREASE_DATA_RETENTION", DataRetentionChangeInHours=8
    )
    assert kv.describe_stream(StreamName="r")["StreamInfo"]["DataRetentionInHours"] == 0
    v = version(kv, "r")
    below = error(
        kv.update_data_retention, StreamName="r", CurrentVersion=v, Operation="DECREASE_DATA_RETENTION", DataRetentionChangeInHours=1
    )
    assert below[0] == "InvalidArgumentException"
    above = error(
        kv.update_data_retention,
        StreamName="r",
        CurrentVersion=v,
        Operation="INCREASE_DATA_RETENTION",
        DataRetentionChangeInHours=MAX_RETENTION + 1,
    )
    assert above[0] == "InvalidArgumentException"
    stale = error(
        kv.update_data_retention, StreamName="r", CurrentVersion="stale1", Operation="INCREASE_DATA_RETENTION", DataRetentionChangeInHours=1
    )
    assert stale[0] == "VersionMismatchException"
    missing = error(
        kv.update_data_retention, StreamName="none", CurrentVersion=v, Operation="INCREASE_DATA_RETENTION", DataRetentionChangeInHours=1
    )
    assert missing[0] == "ResourceNotFoundException"


def test_stream_storage_configuration(kv):
    arn = kv.create_stream(StreamName="tier")["StreamARN"]
    assert kv.describe_stream_storage_configuration(StreamARN=arn)["StreamStorageConfiguration"] == {
        "DefaultStorageTier": "HOT"
    }
    v = version(kv, "tier")
    kv.update_stream_storage_configuration(
        StreamARN=arn, CurrentVersion=v, StreamStorageConfiguration={"DefaultStorageTier": "WARM"}
    )
    assert kv.describe_stream_storage_configuration(StreamName="tier")["StreamStorageConfiguration"] == {
        "DefaultStorageTier": "WARM"
    }
    assert version(kv, "tier") != v
    conflict = error(
        kv.update_stream_storage_configuration,
        StreamARN=arn,
        CurrentVersion=v,
        StreamStorageConfiguration={"DefaultStorageTier": "HOT"},
    )
    assert conflict[0] == "VersionMismatchException"
    bad = error(
        kv.update_stream_storage_configuration,
        StreamName="tier",
        CurrentVersion=v,
        StreamStorageConfiguration={"DefaultStorageTier": "COLD"},
    )
    assert bad[0] == "InvalidArgumentException"
    assert error(kv.describe_stream_storage_configuration, StreamName="x")[0] == "ResourceNotFoundException"


# --- DeleteStream ------------------------------------------------------------------------------


def test_delete_stream_with_its_configurations(kv):
    arn = kv.create_stream(StreamName="d", DataRetentionInHours=1, Tags={"a": "1"})["StreamARN"]
    kv.update_image_generation_configuration(
        StreamName="d",
        ImageGenerationConfiguration={
            "Status": "ENABLED",
            "ImageSelectorType": "SERVER_TIMESTAMP",
            "DestinationConfig": {"Uri": "s3://bucket/prefix", "DestinationRegion": "us-east-1"},
            "SamplingInterval": 1000,
            "Format": "JPEG",
        },
    )
    kv.update_notification_configuration(
        StreamName="d",
        NotificationConfiguration={
            "Status": "ENABLED",
            "DestinationConfig": {"Uri": "arn:aws:sns:us-east-1:123456789012:topic"},
        },
    )
    kv.start_edge_configuration_update(
        StreamName="d",
        EdgeConfig={
            "HubDeviceArn": "arn:aws:iot:us-east-1:123456789012:thing/hub",
            "RecorderConfig": {
                "MediaSourceConfig": {
                    "MediaUriSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:cam",
                    "MediaUriType": "RTSP_URI",
                }
            },
        },
    )
    assert error(kv.delete_stream, StreamARN=arn, CurrentVersion="wrong")[0] == "VersionMismatchException"
    kv.delete_stream(StreamARN=arn, CurrentVersion=version(kv, "d"))
    assert error(kv.describe_stream, StreamARN=arn)[0] == "ResourceNotFoundException"
    assert error(kv.delete_stream, StreamARN=arn)[0] == "ResourceNotFoundException"
    assert error(kv.list_tags_for_resource, ResourceARN=arn)[0] == "ResourceNotFoundException"
    # A new stream of the same name starts with nothing: new ARN, no tags, no configurations.
    arn2 = kv.create_stream(StreamName="d", DataRetentionInHours=1)["StreamARN"]
    assert arn2 != arn
    assert kv.list_tags_for_stream(StreamName="d")["Tags"] == {}
    assert "ImageGenerationConfiguration" not in kv.describe_image_generation_configuration(StreamName="d")
    assert "NotificationConfiguration" not in kv.describe_notification_configuration(StreamName="d")
    assert error(kv.describe_edge_configuration, StreamName="d")[0] == "StreamEdgeConfigurationNotFoundException"
    assert kv.list_edge_agent_configurations(HubDeviceArn="arn:aws:iot:us-east-1:123456789012:thing/hub")[
        "EdgeConfigs"
    ] == []
    # Without CurrentVersion the delete is unconditional.
    kv.delete_stream(StreamARN=arn2)


# --- Tags ----------------------------------------------------------------------------------------


def test_stream_tags(kv):
    arn = kv.create_stream(StreamName="tags")["StreamARN"]
    kv.tag_stream(StreamName="tags", Tags={"a": "1", "b": "2"})
    kv.tag_stream(StreamARN=arn, Tags={"b": "3", "c": ""})
    assert kv.list_tags_for_stream(StreamName="tags")["Tags"] == {"a": "1", "b": "3", "c": ""}
    kv.untag_stream(StreamARN=arn, TagKeyList=["a", "missing"])
    assert kv.list_tags_for_stream(StreamARN=arn)["Tags"] == {"b": "3", "c": ""}
    # Generic tag operations see the same tags.
    assert kv.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"b": "3", "c": ""}
    kv.tag_resource(ResourceARN=arn, Tags=[{"Key": "d", "Value": "4"}])
    kv.untag_resource(ResourceARN=arn, TagKeyList=["b"])
    assert kv.list_tags_for_stream(StreamName="tags")["Tags"] == {"c": "", "d": "4"}

    many = {f"k{i}": "v" for i in range(49)}
    code, status, _ = error(kv.tag_stream, StreamName="tags", Tags=many)
    assert (code, status) == ("TagsPerResourceExceededLimitException", 400)
    over = [{"Key": f"x{i}", "Value": "v"} for i in range(49)]
    assert error(kv.tag_resource, ResourceARN=arn, Tags=over)[0] == "TagsPerResourceExceededLimitException"
    assert kv.list_tags_for_stream(StreamName="tags")["Tags"] == {"c": "", "d": "4"}
    assert error(kv.tag_stream, StreamName="tags", Tags={"aws:reserved": "v"})[0] == "InvalidArgumentException"
    dup = [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]
    assert error(kv.tag_resource, ResourceARN=arn, Tags=dup)[0] == "InvalidArgumentException"
    assert error(kv.tag_stream, StreamName="none", Tags={"a": "b"})[0] == "ResourceNotFoundException"
    assert error(kv.untag_stream, StreamName="none", TagKeyList=["a"])[0] == "ResourceNotFoundException"
    assert error(kv.list_tags_for_stream, StreamName="none")[0] == "ResourceNotFoundException"
    chan = arn.replace(":stream/", ":channel/")
    assert error(kv.tag_stream, StreamARN=chan, Tags={"a": "b"})[0] == "InvalidResourceFormatException"
    assert error(kv.untag_stream, StreamARN=chan, TagKeyList=["a"])[0] == "InvalidResourceFormatException"
    assert error(kv.list_tags_for_stream, StreamARN=chan)[0] == "InvalidResourceFormatException"
    assert error(kv.list_tags_for_stream, StreamName="tags", NextToken="abc")[0] == "InvalidArgumentException"
    assert error(kv.list_tags_for_resource, ResourceARN=arn, NextToken="abc")[0] == "InvalidArgumentException"
    missing = arn.rsplit("/", 1)[0] + "/1"
    assert error(kv.tag_resource, ResourceARN=missing, Tags=[{"Key": "a", "Value": "b"}])[0] == "ResourceNotFoundException"
    assert error(kv.untag_resource, ResourceARN=missing, TagKeyList=["a"])[0] == "ResourceNotFoundException"
    assert error(kv.list_tags_for_resource, ResourceARN=missing)[0] == "ResourceNotFoundException"


# --- Data endpoints --------------------------------------------------------------------------------

_START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
_END = _START + datetime.timedelta(seconds=10)
_RANGE = {"StartTimestamp": _START, "EndTimestamp": _END}

# APIName -> (data-plane service, method, params)
DATA_PLANE = {
    "GET_MEDIA": ("kinesis-video-media", "get_media", {"StartSelector": {"StartSelectorType": "NOW"}}),
    "LIST_FRAGMENTS": ("kinesis-video-archived-media", "list_fragments", {}),
    "GET_MEDIA_FOR_FRAGMENT_LIST": ("kinesis-video-archived-media", "get_media_for_fragment_list", {"Fragments": ["1"]}),
    "GET_HLS_STREAMING_SESSION_URL": ("kinesis-video-archived-media", "get_hls_streaming_session_url", {}),
    "GET_DASH_STREAMING_SESSION_URL": ("kinesis-video-archived-media", "get_dash_streaming_session_url", {}),
    "GET_CLIP": (
        "kinesis-video-archived-media",
        "get_clip",
        {"ClipFragmentSelector": {"FragmentSelectorType": "SERVER_TIMESTAMP", "TimestampRange": _RANGE}},
    ),
    "GET_IMAGES": (
        "kinesis-video-archived-media",
        "get_images",
        {
            "ImageSelectorType": "SERVER_TIMESTAMP",
            "StartTimestamp": _START,
            "EndTimestamp": _END,
            "SamplingInterval": 3000,
            "Format": "JPEG",
        },
    ),
}


def _modelled_errors(client, method):
    op = client.meta.method_to_api_mapping[method]
    model = client.meta.service_model.operation_model(op)
    return {s.metadata.get("error", {}).get("code", s.name) for s in model.error_shapes}


@pytest.mark.parametrize("api_name", sorted(DATA_PLANE))
def test_data_endpoint_reaches_reelay_for_every_api(kv, api_server, api_name):
    kv.create_stream(StreamName="media", DataRetentionInHours=1)
    endpoint = kv.get_data_endpoint(StreamName="media", APIName=api_name)["DataEndpoint"]
    assert endpoint == api_server.url
    service, method, params = DATA_PLANE[api_name]
    import boto3

    client = boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    try:
        resp = getattr(client, method)(StreamName="media", **params)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    except botocore.exceptions.ClientError as e:
        code = e.response["Error"]["Code"]
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        assert e.response["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-requestid")
        # Until the media issue lands these answer 501; afterwards a modelled error is fine.
        if code == "NotImplementedException":
            assert status == 501
        else:
            assert code in _modelled_errors(client, method) | {"InvalidArgumentException"}, code


def test_put_media_endpoint_is_reelay(kv, api_server):
    """boto3 has no PutMedia client; the endpoint is reelay's own listener."""
    import urllib.request

    arn = kv.create_stream(StreamName="producer")["StreamARN"]
    endpoint = kv.get_data_endpoint(StreamARN=arn, APIName="PUT_MEDIA")["DataEndpoint"]
    assert endpoint == api_server.url
    with urllib.request.urlopen(endpoint + "/_reelay/health") as resp:
        assert resp.status == 200


def test_get_data_endpoint_errors(kv):
    assert error(kv.get_data_endpoint, StreamName="none", APIName="GET_MEDIA")[0] == "ResourceNotFoundException"
    assert error(kv.get_data_endpoint, APIName="GET_MEDIA")[0] == "InvalidArgumentException"
    kv.create_stream(StreamName="s")
    assert error(kv.get_data_endpoint, StreamName="s", APIName="GET_NOTHING")[0] == "InvalidArgumentException"


# --- Quotas -----------------------------------------------------------------------------------------


def test_account_stream_limit():
    env = {"REELAY_KVS_MAX_STREAMS": "2", "REELAY_KVS_MAX_CHANNELS": "1"}
    with Reelay(env=env) as r:
        kv = r.client("kinesisvideo")
        kv.create_stream(StreamName="one")
        kv.create_stream(StreamName="two")
        code, status, _ = error(kv.create_stream, StreamName="three")
        assert (code, status) == ("AccountStreamLimitExceededException", 400)
        kv.create_signaling_channel(ChannelName="c1")
        code, status, _ = error(kv.create_signaling_channel, ChannelName="c2")
        assert (code, status) == ("AccountChannelLimitExceededException", 400)
        # The quota is per region.
        r.client("kinesisvideo", region="eu-west-1").create_stream(StreamName="three")


# --- Persistence --------------------------------------------------------------------------------------


def test_state_survives_restart(api_server):
    args = backend_args(api_server.backend)
    with tempfile.TemporaryDirectory(prefix="reelay-kvs-") as data_dir:
        with Reelay(*args, data_dir=data_dir) as r1:
            kv = r1.client("kinesisvideo")
            arn = kv.create_stream(StreamName="keep", DataRetentionInHours=3, Tags={"t": "1"})["StreamARN"]
            kv.update_notification_configuration(
                StreamName="keep",
                NotificationConfiguration={
                    "Status": "DISABLED",
                    "DestinationConfig": {"Uri": "arn:aws:sns:us-east-1:1:t"},
                },
            )
            chan = kv.create_signaling_channel(ChannelName="keep-c", ChannelType="FULL_MESH")["ChannelARN"]
            kv.update_media_storage_configuration(
                ChannelARN=chan, MediaStorageConfiguration={"StreamARN": arn, "Status": "ENABLED"}
            )
            for i in range(3):
                kv.create_stream(StreamName=f"page-{i}")
            token = kv.list_streams(MaxResults=2)["NextToken"]
            before = kv.describe_stream(StreamARN=arn)["StreamInfo"]
        with Reelay(*args, data_dir=data_dir) as r2:
            kv = r2.client("kinesisvideo")
            after = kv.describe_stream(StreamARN=arn)["StreamInfo"]
            for key in ["StreamName", "StreamARN", "Version", "CreationTime", "DataRetentionInHours", "KmsKeyId"]:
                assert after[key] == before[key]
            assert kv.list_tags_for_stream(StreamName="keep")["Tags"] == {"t": "1"}
            assert kv.describe_notification_configuration(StreamName="keep")["NotificationConfiguration"]["Status"] == "DISABLED"
            assert kv.describe_signaling_channel(ChannelARN=chan)["ChannelInfo"]["ChannelType"] == "FULL_MESH"
            assert kv.describe_media_storage_configuration(ChannelARN=chan)["MediaStorageConfiguration"] == {
                "StreamARN": arn,
                "Status": "ENABLED",
            }
            # Page tokens stay valid across the restart.
            rest = kv.list_streams(MaxResults=10, NextToken=token)["StreamInfoList"]
            assert [s["StreamName"] for s in rest] == ["page-1", "page-2"]


# --- AWS CLI ---------------------------------------------------------------------------------------------


def test_aws_cli_lists_and_describes(kv, api_server):
    kv.create_stream(StreamName="cli-stream", DataRetentionInHours=2)
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    base = ["aws", "--endpoint-url", api_server.url, "--output", "json", "kinesisvideo"]
    out = subprocess.run(base + ["describe-stream", "--stream-name", "cli-stream"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert '"DataRetentionInHours": 2' in out.stdout
    out = subprocess.run(base + ["list-streams"], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "cli-stream" in out.stdout
    out = subprocess.run(base + ["describe-stream", "--stream-name", "absent"], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "ResourceNotFoundException" in out.stderr


def test_naming_neither_name_nor_arn_is_an_invalid_argument(api_server):
    kv = api_server.client("kinesisvideo")
    for call in (kv.describe_stream, kv.describe_signaling_channel):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "InvalidArgumentException"
        assert "must be specified" in e.value.response["Error"]["Message"]
