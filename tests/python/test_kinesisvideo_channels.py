"""Kinesis Video Streams: signaling channels, their endpoints, media storage, and the
kinesis-video-signaling and kinesis-video-webrtc-storage services.

Runs on SQLite and PostgreSQL (the `api_server` fixture); every test starts from a reset server.
"""
import base64
import datetime

import botocore.exceptions
import pytest

from conftest import Reelay, advance_clock, reset

TOPIC = "arn:aws:sns:us-east-1:123456789012:t"


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


def channel_version(kv, arn):
    return kv.describe_signaling_channel(ChannelARN=arn)["ChannelInfo"]["Version"]


# --- CRUD ----------------------------------------------------------------------------------------


def test_create_channel_defaults_and_describe(kv, api_server):
    arn = kv.create_signaling_channel(ChannelName="door")["ChannelARN"]
    assert ":channel/door/" in arn and arn.startswith("arn:aws:kinesisvideo:us-east-1:")
    info = kv.describe_signaling_channel(ChannelName="door")["ChannelInfo"]
    assert info["ChannelName"] == "door" and info["ChannelARN"] == arn
    assert info["ChannelType"] == "SINGLE_MASTER"
    assert info["SingleMasterConfiguration"] == {"MessageTtlSeconds": 60}
    assert info["ChannelStatus"] == "CREATING"
    assert isinstance(info["CreationTime"], datetime.datetime)
    assert info["Version"].isalnum()
    advance_clock(api_server, 2)
    assert kv.describe_signaling_channel(ChannelARN=arn)["ChannelInfo"]["ChannelStatus"] == "ACTIVE"


def test_create_channel_every_member(kv):
    arn = kv.create_signaling_channel(
        ChannelName="mesh",
        ChannelType="FULL_MESH",
        SingleMasterConfiguration={"MessageTtlSeconds": 120},
        Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}],
    )["ChannelARN"]
    info = kv.describe_signaling_channel(ChannelARN=arn)["ChannelInfo"]
    assert info["ChannelType"] == "FULL_MESH"
    assert info["SingleMasterConfiguration"] == {"MessageTtlSeconds": 120}
    assert kv.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"a": "1", "b": ""}


def test_create_channel_errors(kv):
    kv.create_signaling_channel(ChannelName="c")
    assert error(kv.create_signaling_channel, ChannelName="c") == ("ResourceInUseException", 400)
    for ttl in (121, 100000):
        assert error(kv.create_signaling_channel, ChannelName="t", SingleMasterConfiguration={"MessageTtlSeconds": ttl})[
            0
        ] == "InvalidArgumentException"
    assert error(kv.create_signaling_channel, ChannelName="t", ChannelType="STAR")[0] == "InvalidArgumentException"
    dup = [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]
    assert error(kv.create_signaling_channel, ChannelName="t", Tags=dup)[0] == "InvalidArgumentException"
    assert error(kv.create_signaling_channel, ChannelName="t", Tags=[{"Key": "aws:k", "Value": "v"}])[0] == (
        "InvalidArgumentException"
    )
    assert error(kv.describe_signaling_channel, ChannelName="none") == ("ResourceNotFoundException", 404)
    assert error(kv.describe_signaling_channel)[0] == "InvalidArgumentException"
    stream = kv.create_stream(StreamName="s")["StreamARN"]
    assert error(kv.describe_signaling_channel, ChannelARN=stream)[0] == "ResourceNotFoundException"


def test_list_channels_condition_and_paginator(kv):
    names = ["cam-a", "cam-b", "cam-c", "door", "yard"]
    for n in names:
        kv.create_signaling_channel(ChannelName=n)
    assert [c["ChannelName"] for c in kv.list_signaling_channels()["ChannelInfoList"]] == names
    cond = {"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": "cam"}
    got = kv.list_signaling_channels(ChannelNameCondition=cond)["ChannelInfoList"]
    assert [c["ChannelName"] for c in got] == ["cam-a", "cam-b", "cam-c"]
    pages = list(kv.get_paginator("list_signaling_channels").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["ChannelInfoList"]) for p in pages] == [2, 2, 1]
    assert [c["ChannelName"] for p in pages for c in p["ChannelInfoList"]] == names
    filtered = kv.get_paginator("list_signaling_channels").paginate(
        ChannelNameCondition=cond, PaginationConfig={"PageSize": 1}
    )
    assert [c["ChannelName"] for p in filtered for c in p["ChannelInfoList"]] == ["cam-a", "cam-b", "cam-c"]
    assert error(kv.list_signaling_channels, NextToken="Zm9v")[0] == "InvalidArgumentException"


def test_update_and_delete_channel_with_versions(kv):
    arn = kv.create_signaling_channel(ChannelName="u")["ChannelARN"]
    v1 = channel_version(kv, arn)
    kv.update_signaling_channel(ChannelARN=arn, CurrentVersion=v1, SingleMasterConfiguration={"MessageTtlSeconds": 5})
    info = kv.describe_signaling_channel(ChannelARN=arn)["ChannelInfo"]
    assert info["SingleMasterConfiguration"] == {"MessageTtlSeconds": 5}
    assert info["Version"] != v1
    assert error(kv.update_signaling_channel, ChannelARN=arn, CurrentVersion=v1) == ("VersionMismatchException", 400)
    assert error(
        kv.update_signaling_channel, ChannelARN=arn, CurrentVersion=info["Version"], SingleMasterConfiguration={"MessageTtlSeconds": 200}
    )[0] == "InvalidArgumentException"
    assert error(kv.delete_signaling_channel, ChannelARN=arn, CurrentVersion=v1)[0] == "VersionMismatchException"
    kv.delete_signaling_channel(ChannelARN=arn, CurrentVersion=info["Version"])
    assert error(kv.describe_signaling_channel, ChannelARN=arn)[0] == "ResourceNotFoundException"
    assert error(kv.delete_signaling_channel, ChannelARN=arn)[0] == "ResourceNotFoundException"
    assert error(kv.update_signaling_channel, ChannelARN=arn, CurrentVersion="abc")[0] == "ResourceNotFoundException"
    assert error(kv.list_tags_for_resource, ResourceARN=arn)[0] == "ResourceNotFoundException"
    # Delete without a version is unconditional.
    arn2 = kv.create_signaling_channel(ChannelName="u")["ChannelARN"]
    assert arn2 != arn
    kv.delete_signaling_channel(ChannelARN=arn2)


def test_channel_tags(kv):
    arn = kv.create_signaling_channel(ChannelName="tagged")["ChannelARN"]
    kv.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    kv.untag_resource(ResourceARN=arn, TagKeyList=["a"])
    assert kv.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"b": "2"}
    over = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    assert error(kv.tag_resource, ResourceARN=arn, Tags=over)[0] == "TagsPerResourceExceededLimitException"
    # The stream tag operations refuse a channel ARN.
    assert error(kv.list_tags_for_stream, StreamARN=arn)[0] == "InvalidResourceFormatException"


# --- Endpoints ----------------------------------------------------------------------------------------


def test_signaling_channel_endpoints(kv, api_server):
    arn = kv.create_signaling_channel(ChannelName="ep")["ChannelARN"]
    ws = api_server.url.replace("http://", "ws://")
    for role in ("MASTER", "VIEWER"):
        got = kv.get_signaling_channel_endpoint(
            ChannelARN=arn, SingleMasterChannelEndpointConfiguration={"Protocols": ["WSS", "HTTPS", "WSS"], "Role": role}
        )["ResourceEndpointList"]
        assert got == [
            {"Protocol": "WSS", "ResourceEndpoint": ws},
            {"Protocol": "HTTPS", "ResourceEndpoint": api_server.url},
        ]
    default = kv.get_signaling_channel_endpoint(ChannelARN=arn)["ResourceEndpointList"]
    assert {e["Protocol"] for e in default} == {"WSS", "HTTPS"}
    webrtc = {"Protocols": ["WEBRTC"], "Role": "MASTER"}
    assert error(kv.get_signaling_channel_endpoint, ChannelARN=arn, SingleMasterChannelEndpointConfiguration=webrtc)[
        0
    ] == "InvalidArgumentException"
    stream = kv.create_stream(StreamName="store", DataRetentionInHours=1)["StreamARN"]
    kv.update_media_storage_configuration(ChannelARN=arn, MediaStorageConfiguration={"StreamARN": stream, "Status": "ENABLED"})
    got = kv.get_signaling_channel_endpoint(ChannelARN=arn, SingleMasterChannelEndpointConfiguration=webrtc)
    assert got["ResourceEndpointList"] == [{"Protocol": "WEBRTC", "ResourceEndpoint": api_server.url}]
    missing = arn.rsplit("/", 1)[0] + "/1"
    assert error(kv.get_signaling_channel_endpoint, ChannelARN=missing) == ("ResourceNotFoundException", 404)
    bad_protocol = {"Protocols": ["FTP"], "Role": "MASTER"}
    assert error(kv.get_signaling_channel_endpoint, ChannelARN=arn, SingleMasterChannelEndpointConfiguration=bad_protocol)[
        0
    ] == "InvalidArgumentException"


def test_signaling_clients_built_from_the_https_endpoint(kv, api_server):
    import boto3

    arn = kv.create_signaling_channel(ChannelName="sig")["ChannelARN"]
    endpoints = kv.get_signaling_channel_endpoint(
        ChannelARN=arn, SingleMasterChannelEndpointConfiguration={"Protocols": ["HTTPS"], "Role": "VIEWER"}
    )["ResourceEndpointList"]
    sig = boto3.client(
        "kinesis-video-signaling",
        endpoint_url=endpoints[0]["ResourceEndpoint"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    # No ICE servers configured: an empty list.
    assert sig.get_ice_server_config(ChannelARN=arn, ClientId="viewer-1", Service="TURN")["IceServerList"] == []
    offer = base64.b64encode(b'{"type":"offer","sdp":"v=0"}').decode()
    code, status = error(sig.send_alexa_offer_to_master, ChannelARN=arn, SenderClientId="alexa", MessagePayload=offer)
    assert (code, status) == ("ResourceNotFoundException", 404)
    missing = arn.rsplit("/", 1)[0] + "/1"
    assert error(sig.get_ice_server_config, ChannelARN=missing)[0] == "ResourceNotFoundException"
    assert error(sig.send_alexa_offer_to_master, ChannelARN=missing, SenderClientId="a", MessagePayload=offer)[0] == (
        "ResourceNotFoundException"
    )
    assert error(sig.get_ice_server_config, ChannelARN=arn, Service="STUN")[0] == "InvalidArgumentException"
    assert error(sig.send_alexa_offer_to_master, ChannelARN=arn, SenderClientId="a", MessagePayload="not base64!")[0] == (
        "InvalidArgumentException"
    )


def test_ice_servers_from_the_flag():
    servers = "stun:stun.example.com:3478,turn:alice:s3cret@turn.example.com:3478?transport=udp"
    with Reelay("--ice-server", servers.split(",")[0], "--ice-server", servers.split(",")[1]) as r:
        kv = r.client("kinesisvideo")
        arn = kv.create_signaling_channel(ChannelName="ice")["ChannelARN"]
        got = r.client("kinesis-video-signaling").get_ice_server_config(ChannelARN=arn)["IceServerList"]
        assert got == [
            {"Uris": ["stun:stun.example.com:3478"]},
            {
                "Uris": ["turn:turn.example.com:3478?transport=udp"],
                "Username": "alice",
                "Password": "s3cret",
                "Ttl": 300,
            },
        ]


# --- Media storage -----------------------------------------------------------------------------------------


def test_media_storage_configuration_and_mapping(kv):
    chan = kv.create_signaling_channel(ChannelName="ingest")["ChannelARN"]
    assert kv.describe_media_storage_configuration(ChannelARN=chan)["MediaStorageConfiguration"] == {"Status": "DISABLED"}
    stream = kv.create_stream(StreamName="target", DataRetentionInHours=24)["StreamARN"]
    assert kv.describe_mapped_resource_configuration(StreamARN=stream)["MappedResourceConfigurationList"] == []
    kv.update_media_storage_configuration(
        ChannelARN=chan, MediaStorageConfiguration={"StreamARN": stream, "Status": "ENABLED"}
    )
    assert kv.describe_media_storage_configuration(ChannelName="ingest")["MediaStorageConfiguration"] == {
        "StreamARN": stream,
        "Status": "ENABLED",
    }
    mapped = kv.describe_mapped_resource_configuration(StreamName="target")["MappedResourceConfigurationList"]
    assert mapped == [{"Type": "SIGNALING_CHANNEL", "ARN": chan}]
    pages = list(kv.get_paginator("describe_mapped_resource_configuration").paginate(StreamName="target"))
    assert [i["ARN"] for p in pages for i in p["MappedResourceConfigurationList"]] == [chan]
    # Re-applying to the same stream is fine; a second channel cannot take the stream.
    kv.update_media_storage_configuration(
        ChannelARN=chan, MediaStorageConfiguration={"StreamARN": stream, "Status": "ENABLED"}
    )
    other = kv.create_signaling_channel(ChannelName="other")["ChannelARN"]
    taken = {"StreamARN": stream, "Status": "ENABLED"}
    assert error(kv.update_media_storage_configuration, ChannelARN=other, MediaStorageConfiguration=taken) == (
        "ResourceInUseException",
        400,
    )
    # The stream cannot be deleted while a channel stores its media there.
    assert error(kv.delete_stream, StreamARN=stream)[0] == "ResourceInUseException"
    # Disabling without a stream unmaps it; then the other channel may take it and the
    # first one's mapping is gone.
    kv.update_media_storage_configuration(ChannelARN=chan, MediaStorageConfiguration={"Status": "DISABLED"})
    assert kv.describe_media_storage_configuration(ChannelARN=chan)["MediaStorageConfiguration"] == {"Status": "DISABLED"}
    kv.update_media_storage_configuration(ChannelARN=other, MediaStorageConfiguration=taken)
    assert kv.describe_mapped_resource_configuration(StreamARN=stream)["MappedResourceConfigurationList"][0]["ARN"] == other
    # Deleting the channel releases the stream.
    kv.delete_signaling_channel(ChannelARN=other)
    assert kv.describe_mapped_resource_configuration(StreamARN=stream)["MappedResourceConfigurationList"] == []
    kv.delete_stream(StreamARN=stream)


def test_media_storage_errors(kv):
    chan = kv.create_signaling_channel(ChannelName="c")["ChannelARN"]
    no_retention = kv.create_stream(StreamName="zero")["StreamARN"]
    cfg = {"StreamARN": no_retention, "Status": "ENABLED"}
    assert error(kv.update_media_storage_configuration, ChannelARN=chan, MediaStorageConfiguration=cfg) == (
        "NoDataRetentionException",
        400,
    )
    assert error(
        kv.update_media_storage_configuration, ChannelARN=chan, MediaStorageConfiguration={"Status": "ENABLED"}
    )[0] == "InvalidArgumentException"
    gone = no_retention.rsplit("/", 1)[0] + "/1"
    assert error(
        kv.update_media_storage_configuration, ChannelARN=chan, MediaStorageConfiguration={"StreamARN": gone, "Status": "DISABLED"}
    )[0] == "ResourceNotFoundException"
    missing_chan = chan.rsplit("/", 1)[0] + "/1"
    assert error(
        kv.update_media_storage_configuration, ChannelARN=missing_chan, MediaStorageConfiguration={"Status": "DISABLED"}
    )[0] == "ResourceNotFoundException"
    assert error(kv.describe_media_storage_configuration, ChannelName="none")[0] == "ResourceNotFoundException"
    assert error(kv.describe_media_storage_configuration)[0] == "InvalidArgumentException"
    assert error(kv.describe_mapped_resource_configuration, StreamName="none")[0] == "ResourceNotFoundException"
    assert error(kv.describe_mapped_resource_configuration, StreamName="zero", MaxResults=2)[0] == "InvalidArgumentException"


# --- kinesis-video-webrtc-storage ---------------------------------------------------------------------------


def test_join_storage_session_validates_channel_and_mapping(kv, api_server):
    storage = api_server.client("kinesis-video-webrtc-storage")
    chan = kv.create_signaling_channel(ChannelName="room")["ChannelARN"]
    assert error(storage.join_storage_session, channelArn=chan) == ("InvalidArgumentException", 400)
    assert error(storage.join_storage_session_as_viewer, channelArn=chan, clientId="v1")[0] == "InvalidArgumentException"
    stream = kv.create_stream(StreamName="room-store", DataRetentionInHours=1)["StreamARN"]
    kv.update_media_storage_configuration(ChannelARN=chan, MediaStorageConfiguration={"StreamARN": stream, "Status": "DISABLED"})
    assert error(storage.join_storage_session, channelArn=chan)[0] == "InvalidArgumentException"
    kv.update_media_storage_configuration(ChannelARN=chan, MediaStorageConfiguration={"StreamARN": stream, "Status": "ENABLED"})
    assert storage.join_storage_session(channelArn=chan)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert storage.join_storage_session_as_viewer(channelArn=chan, clientId="v1")["ResponseMetadata"]["HTTPStatusCode"] == 200
    missing = chan.rsplit("/", 1)[0] + "/1"
    assert error(storage.join_storage_session, channelArn=missing) == ("ResourceNotFoundException", 404)
    assert error(storage.join_storage_session_as_viewer, channelArn=missing, clientId="v1")[0] == "ResourceNotFoundException"
    assert error(storage.join_storage_session_as_viewer, channelArn=chan, clientId="bad id")[0] == "InvalidArgumentException"
