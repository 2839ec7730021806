"""Kinesis Video Streams: image generation, notification and edge configurations.

Runs on SQLite and PostgreSQL (the `api_server` fixture); every test starts from a reset server.
"""
import copy

import botocore.exceptions
import pytest

from conftest import advance_clock, reset

HUB = "arn:aws:iot:us-east-1:123456789012:thing/hub-1"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:camera-1"

IMAGE_CFG = {
    "Status": "ENABLED",
    "ImageSelectorType": "PRODUCER_TIMESTAMP",
    "DestinationConfig": {"Uri": "s3://images-bucket/prefix", "DestinationRegion": "us-east-1"},
    "SamplingInterval": 33,
    "Format": "JPEG",
    "FormatConfig": {"JPEGQuality": "100"},
    "WidthPixels": 3840,
    "HeightPixels": 2160,
}

NOTIFY_CFG = {"Status": "ENABLED", "DestinationConfig": {"Uri": "arn:aws:sns:us-east-1:123456789012:kvs-topic"}}

EDGE_CFG = {
    "HubDeviceArn": HUB,
    "RecorderConfig": {
        "MediaSourceConfig": {"MediaUriSecretArn": SECRET, "MediaUriType": "RTSP_URI"},
        "ScheduleConfig": {"ScheduleExpression": "0 0/5 * * * ?", "DurationInSeconds": 60},
    },
    "UploaderConfig": {"ScheduleConfig": {"ScheduleExpression": "0 0 * * * ? *", "DurationInSeconds": 3600}},
    "DeletionConfig": {
        "EdgeRetentionInHours": 720,
        "LocalSizeConfig": {"MaxLocalMediaSizeInMB": 64, "StrategyOnFullSize": "DELETE_OLDEST_MEDIA"},
        "DeleteAfterUpload": True,
    },
}


@pytest.fixture(autouse=True)
def clean(api_server):
    reset(api_server)


@pytest.fixture
def kv(api_server):
    return api_server.client("kinesisvideo")


def error(fn, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(**kw)
    r = ei.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def with_changes(cfg, path, value):
    """A deep copy of cfg with the member at `path` (dot-separated) replaced, or removed if value is None."""
    out = copy.deepcopy(cfg)
    node = out
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[k]
    if value is None:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return out


# --- Image generation ---------------------------------------------------------------------------


def test_image_generation_round_trip_and_delete(kv):
    arn = kv.create_stream(StreamName="img", DataRetentionInHours=1)["StreamARN"]
    assert "ImageGenerationConfiguration" not in kv.describe_image_generation_configuration(StreamName="img")
    kv.update_image_generation_configuration(StreamName="img", ImageGenerationConfiguration=IMAGE_CFG)
    got = kv.describe_image_generation_configuration(StreamARN=arn)["ImageGenerationConfiguration"]
    assert got == IMAGE_CFG
    # A minimal configuration replaces the whole structure.
    minimal = {
        "Status": "DISABLED",
        "ImageSelectorType": "SERVER_TIMESTAMP",
        "DestinationConfig": {"Uri": "s3://b", "DestinationRegion": "us-east-1"},
        "SamplingInterval": 20000,
        "Format": "PNG",
    }
    kv.update_image_generation_configuration(StreamARN=arn, ImageGenerationConfiguration=minimal)
    assert kv.describe_image_generation_configuration(StreamName="img")["ImageGenerationConfiguration"] == minimal
    # Width alone keeps the aspect ratio; it is stored as given.
    width_only = dict(minimal, WidthPixels=640)
    kv.update_image_generation_configuration(StreamName="img", ImageGenerationConfiguration=width_only)
    assert kv.describe_image_generation_configuration(StreamName="img")["ImageGenerationConfiguration"] == width_only
    # Null deletes.
    kv.update_image_generation_configuration(StreamName="img")
    assert "ImageGenerationConfiguration" not in kv.describe_image_generation_configuration(StreamName="img")
    # Deleting what is not there is fine.
    kv.update_image_generation_configuration(StreamName="img")


@pytest.mark.parametrize(
    "path,value",
    [
        ("SamplingInterval", 32),
        ("SamplingInterval", 0),
        ("DestinationConfig.DestinationRegion", "us-west-2"),
        ("DestinationConfig.DestinationRegion", "EU-WEST-1X"),
        ("DestinationConfig.Uri", "no-scheme"),
        ("DestinationConfig.Uri", "s3://bucket/*"),
        ("FormatConfig", {"JPEGQuality": "0"}),
        ("FormatConfig", {"JPEGQuality": "101"}),
        ("FormatConfig", {"JPEGQuality": "high"}),
        ("FormatConfig", {"PNGLevel": "9"}),
        ("Format", "GIF"),
        ("Status", "ON"),
        ("ImageSelectorType", "NOW"),
        ("WidthPixels", 3841),
        ("HeightPixels", 2161),
    ],
)
def test_image_generation_member_validation(kv, path, value):
    kv.create_stream(StreamName="v", DataRetentionInHours=1)
    bad = with_changes(IMAGE_CFG, path, value)
    assert error(kv.update_image_generation_configuration, StreamName="v", ImageGenerationConfiguration=bad) == (
        "InvalidArgumentException",
        400,
    )
    assert "ImageGenerationConfiguration" not in kv.describe_image_generation_configuration(StreamName="v")


def test_image_generation_errors(kv):
    kv.create_stream(StreamName="zero")
    assert error(kv.update_image_generation_configuration, StreamName="zero", ImageGenerationConfiguration=IMAGE_CFG) == (
        "NoDataRetentionException",
        400,
    )
    png_quality = dict(IMAGE_CFG, Format="PNG")
    kv.create_stream(StreamName="one", DataRetentionInHours=1)
    assert error(kv.update_image_generation_configuration, StreamName="one", ImageGenerationConfiguration=png_quality)[
        0
    ] == "InvalidArgumentException"
    assert error(kv.update_image_generation_configuration, StreamName="none", ImageGenerationConfiguration=IMAGE_CFG)[
        0
    ] == "ResourceNotFoundException"
    assert error(kv.describe_image_generation_configuration, StreamName="none") == ("ResourceNotFoundException", 404)
    assert error(kv.describe_image_generation_configuration)[0] == "InvalidArgumentException"


# --- Notifications -----------------------------------------------------------------------------------


def test_notification_round_trip_and_delete(kv):
    arn = kv.create_stream(StreamName="n", DataRetentionInHours=1)["StreamARN"]
    assert "NotificationConfiguration" not in kv.describe_notification_configuration(StreamName="n")
    kv.update_notification_configuration(StreamARN=arn, NotificationConfiguration=NOTIFY_CFG)
    assert kv.describe_notification_configuration(StreamARN=arn)["NotificationConfiguration"] == NOTIFY_CFG
    disabled = dict(NOTIFY_CFG, Status="DISABLED")
    kv.update_notification_configuration(StreamName="n", NotificationConfiguration=disabled)
    assert kv.describe_notification_configuration(StreamName="n")["NotificationConfiguration"] == disabled
    kv.update_notification_configuration(StreamName="n")
    assert "NotificationConfiguration" not in kv.describe_notification_configuration(StreamName="n")


def test_notification_errors(kv):
    kv.create_stream(StreamName="zero")
    assert error(kv.update_notification_configuration, StreamName="zero", NotificationConfiguration=NOTIFY_CFG) == (
        "NoDataRetentionException",
        400,
    )
    kv.create_stream(StreamName="one", DataRetentionInHours=1)
    for bad in (with_changes(NOTIFY_CFG, "DestinationConfig.Uri", "topic"), dict(NOTIFY_CFG, Status="MAYBE")):
        assert error(kv.update_notification_configuration, StreamName="one", NotificationConfiguration=bad)[0] == (
            "InvalidArgumentException"
        )
    assert error(kv.update_notification_configuration, StreamName="none", NotificationConfiguration=NOTIFY_CFG)[0] == (
        "ResourceNotFoundException"
    )
    assert error(kv.describe_notification_configuration, StreamName="none")[0] == "ResourceNotFoundException"
    assert error(kv.describe_notification_configuration)[0] == "InvalidArgumentException"


# --- Edge configurations ------------------------------------------------------------------------------------


def test_edge_configuration_state_machine(kv, api_server):
    arn = kv.create_stream(StreamName="edge", DataRetentionInHours=1)["StreamARN"]
    assert error(kv.describe_edge_configuration, StreamName="edge") == ("StreamEdgeConfigurationNotFoundException", 404)
    started = kv.start_edge_configuration_update(StreamARN=arn, EdgeConfig=EDGE_CFG)
    assert started["SyncStatus"] == "SYNCING"
    assert started["StreamARN"] == arn and started["StreamName"] == "edge"
    assert started["EdgeConfig"] == EDGE_CFG
    assert started["CreationTime"] == started["LastUpdatedTime"]
    described = kv.describe_edge_configuration(StreamName="edge")
    assert described["SyncStatus"] == "SYNCING" and described["EdgeConfig"] == EDGE_CFG
    assert "EdgeAgentStatus" not in described and "FailedStatusDetails" not in described
    # An update while syncing is refused.
    assert error(kv.start_edge_configuration_update, StreamName="edge", EdgeConfig=EDGE_CFG) == (
        "ResourceInUseException",
        400,
    )
    # No edge agent ever acknowledges: after AWS's 15 minutes of retries it is SYNC_FAILED.
    advance_clock(api_server, 15 * 60)
    failed = kv.describe_edge_configuration(StreamARN=arn)
    assert failed["SyncStatus"] == "SYNC_FAILED"
    assert failed["FailedStatusDetails"]
    assert failed["LastUpdatedTime"] > failed["CreationTime"]
    # A terminal state accepts a new update, which keeps the creation time.
    minimal = {"HubDeviceArn": HUB, "RecorderConfig": {"MediaSourceConfig": {"MediaUriSecretArn": SECRET, "MediaUriType": "FILE_URI"}}}
    again = kv.start_edge_configuration_update(StreamName="edge", EdgeConfig=minimal)
    assert again["SyncStatus"] == "SYNCING" and again["EdgeConfig"] == minimal
    assert again["CreationTime"] == started["CreationTime"]
    # Deletion shows DELETING, refuses updates, then the configuration is gone.
    kv.delete_edge_configuration(StreamName="edge")
    assert kv.describe_edge_configuration(StreamName="edge")["SyncStatus"] == "DELETING"
    kv.delete_edge_configuration(StreamARN=arn)
    assert error(kv.start_edge_configuration_update, StreamName="edge", EdgeConfig=EDGE_CFG)[0] == "ResourceInUseException"
    advance_clock(api_server, 2)
    assert error(kv.describe_edge_configuration, StreamName="edge")[0] == "StreamEdgeConfigurationNotFoundException"
    assert error(kv.delete_edge_configuration, StreamName="edge")[0] == "StreamEdgeConfigurationNotFoundException"
    assert kv.list_edge_agent_configurations(HubDeviceArn=HUB)["EdgeConfigs"] == []
    # And a fresh configuration can start.
    fresh = kv.start_edge_configuration_update(StreamName="edge", EdgeConfig=EDGE_CFG)
    assert fresh["SyncStatus"] == "SYNCING" and fresh["CreationTime"] > started["CreationTime"]


def test_list_edge_agent_configurations_paginator(kv):
    other_hub = HUB.replace("hub-1", "hub-2")
    for i in range(5):
        kv.create_stream(StreamName=f"cam-{i}", DataRetentionInHours=1)
        hub = HUB if i != 2 else other_hub
        kv.start_edge_configuration_update(StreamName=f"cam-{i}", EdgeConfig=dict(EDGE_CFG, HubDeviceArn=hub))
    kv.create_stream(StreamName="no-edge", DataRetentionInHours=1)
    pages = list(
        kv.get_paginator("list_edge_agent_configurations").paginate(HubDeviceArn=HUB, PaginationConfig={"PageSize": 2})
    )
    assert [len(p["EdgeConfigs"]) for p in pages] == [2, 2]
    items = [c for p in pages for c in p["EdgeConfigs"]]
    assert [c["StreamName"] for c in items] == ["cam-0", "cam-1", "cam-3", "cam-4"]
    first = items[0]
    assert first["SyncStatus"] == "SYNCING" and first["EdgeConfig"] == EDGE_CFG
    assert first["StreamARN"] == kv.describe_stream(StreamName="cam-0")["StreamInfo"]["StreamARN"]
    assert first["CreationTime"] == first["LastUpdatedTime"]
    assert [c["StreamName"] for c in kv.list_edge_agent_configurations(HubDeviceArn=other_hub)["EdgeConfigs"]] == ["cam-2"]
    assert error(kv.list_edge_agent_configurations, HubDeviceArn=HUB, MaxResults=11)[0] == "InvalidArgumentException"
    assert error(kv.list_edge_agent_configurations, HubDeviceArn="arn:aws:iot:us-east-1:1:hub/x")[0] == (
        "InvalidArgumentException"
    )


@pytest.mark.parametrize(
    "path,value",
    [
        ("HubDeviceArn", "arn:aws:iot:us-east-1:123456789012:device/x"),
        ("RecorderConfig.MediaSourceConfig.MediaUriSecretArn", "arn:aws:s3:::bucket/key/secret-1"),
        ("RecorderConfig.MediaSourceConfig.MediaUriType", "HTTP_URI"),
        ("RecorderConfig.ScheduleConfig.ScheduleExpression", "every five minutes"),
        ("RecorderConfig.ScheduleConfig.ScheduleExpression", "00 00 * * ?"),
        ("UploaderConfig.ScheduleConfig.ScheduleExpression", "0 0 * * ? * * *"),
        ("RecorderConfig.ScheduleConfig.DurationInSeconds", 3601),
        ("UploaderConfig.ScheduleConfig.DurationInSeconds", 3601),
        ("DeletionConfig.EdgeRetentionInHours", 721),
        ("DeletionConfig.LocalSizeConfig.MaxLocalMediaSizeInMB", 2000001),
        ("DeletionConfig.LocalSizeConfig.StrategyOnFullSize", "KEEP"),
    ],
)
def test_edge_config_member_validation(kv, path, value):
    kv.create_stream(StreamName="e", DataRetentionInHours=1)
    bad = with_changes(EDGE_CFG, path, value)
    assert error(kv.start_edge_configuration_update, StreamName="e", EdgeConfig=bad)[0] == "InvalidArgumentException"
    assert error(kv.describe_edge_configuration, StreamName="e")[0] == "StreamEdgeConfigurationNotFoundException"


def test_edge_errors(kv):
    kv.create_stream(StreamName="zero")
    assert error(kv.start_edge_configuration_update, StreamName="zero", EdgeConfig=EDGE_CFG) == (
        "NoDataRetentionException",
        400,
    )
    assert error(kv.start_edge_configuration_update, StreamName="none", EdgeConfig=EDGE_CFG)[0] == (
        "ResourceNotFoundException"
    )
    assert error(kv.describe_edge_configuration, StreamName="none")[0] == "ResourceNotFoundException"
    assert error(kv.delete_edge_configuration, StreamName="none")[0] == "ResourceNotFoundException"
    assert error(kv.delete_edge_configuration)[0] == "InvalidArgumentException"
