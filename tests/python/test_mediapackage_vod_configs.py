"""MediaPackage VOD packaging configurations through boto3 and the AWS CLI, on SQLite and PostgreSQL."""
import copy
import json
import os
import re
import subprocess

import pytest

from conftest import reset
from test_mediapackage_vod_support import (
    AES128, FAIRPLAY, FULL, PLAYREADY, WIDEVINE, expect_error, mpv, speke,
)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture(autouse=True)
def clean(api_server):
    reset(api_server)
    mpv(api_server).create_packaging_group(Id="grp")


def strip(resp):
    resp = dict(resp)
    resp.pop("ResponseMetadata", None)
    return resp


@pytest.mark.parametrize("ptype", ["HlsPackage", "DashPackage", "CmafPackage", "MssPackage"])
def test_every_member_round_trips(api_server, ptype):
    c = mpv(api_server)
    created = c.create_packaging_configuration(Id=f"full-{ptype}", PackagingGroupId="grp", Tags={"kind": ptype}, **{ptype: FULL[ptype]})
    assert created[ptype] == FULL[ptype]
    assert created["Arn"].endswith(f":packaging-configurations/full-{ptype}")
    assert created["PackagingGroupId"] == "grp" and created["Tags"] == {"kind": ptype}
    assert ISO.match(created["CreatedAt"])
    described = strip(c.describe_packaging_configuration(Id=f"full-{ptype}"))
    assert described == strip(created)
    for other in {"HlsPackage", "DashPackage", "CmafPackage", "MssPackage"} - {ptype}:
        assert other not in described
    listed = c.list_packaging_configurations(PackagingGroupId="grp")["PackagingConfigurations"]
    assert listed == [described]


def test_defaults_filled_in(api_server):
    c = mpv(api_server)
    hls = c.create_packaging_configuration(Id="h", PackagingGroupId="grp", HlsPackage={"HlsManifests": [{}]})["HlsPackage"]
    assert hls == {
        "HlsManifests": [{"AdMarkers": "NONE", "IncludeIframeOnlyStream": False, "ManifestName": "index",
                          "ProgramDateTimeIntervalSeconds": 0, "RepeatExtXKey": False}],
        "IncludeDvbSubtitles": False, "SegmentDurationSeconds": 6, "UseAudioRenditionGroup": False,
    }
    dash = c.create_packaging_configuration(Id="d", PackagingGroupId="grp", DashPackage={"DashManifests": [{}]})["DashPackage"]
    assert dash == {
        "DashManifests": [{"ManifestLayout": "FULL", "ManifestName": "index", "MinBufferTimeSeconds": 30,
                           "Profile": "NONE", "ScteMarkersSource": "SEGMENTS"}],
        "IncludeEncoderConfigurationInSegments": False, "IncludeIframeOnlyStream": False,
        "SegmentDurationSeconds": 6, "SegmentTemplateFormat": "NUMBER_WITH_TIMELINE",
    }
    cmaf = c.create_packaging_configuration(Id="c", PackagingGroupId="grp", CmafPackage={
        "HlsManifests": [{"StreamSelection": {"MinVideoBitsPerSecond": 1}}],
        "Encryption": {"SpekeKeyProvider": speke([WIDEVINE])},
    })["CmafPackage"]
    assert cmaf["SegmentDurationSeconds"] == 6 and cmaf["IncludeEncoderConfigurationInSegments"] is False
    assert cmaf["HlsManifests"][0]["StreamSelection"] == {"MinVideoBitsPerSecond": 1, "StreamOrder": "ORIGINAL"}
    mss = c.create_packaging_configuration(Id="m", PackagingGroupId="grp", MssPackage={"MssManifests": [{}]})["MssPackage"]
    assert mss == {"MssManifests": [{"ManifestName": "index"}], "SegmentDurationSeconds": 6}
    enc = c.create_packaging_configuration(Id="e", PackagingGroupId="grp", HlsPackage={
        "HlsManifests": [{}], "Encryption": {"SpekeKeyProvider": speke([AES128])}})["HlsPackage"]["Encryption"]
    assert enc["EncryptionMethod"] == "AES_128" and "ConstantInitializationVector" not in enc
    assert c.describe_packaging_configuration(Id="e")["HlsPackage"]["Encryption"] == enc


def hls_with(**enc):
    return {"HlsManifests": [{}], "Encryption": enc}


INVALID = [
    ("no package", {}, "exactly one"),
    ("two packages", {"HlsPackage": {"HlsManifests": [{}]}, "MssPackage": {"MssManifests": [{}]}}, "exactly one"),
    ("no manifests", {"HlsPackage": {"HlsManifests": []}}, "at least one manifest"),
    ("duplicate manifest names", {"HlsPackage": {"HlsManifests": [{}, {"ManifestName": "index"}]}}, "more than one"),
    ("bad manifest name", {"DashPackage": {"DashManifests": [{"ManifestName": "a.b/c"}]}}, "manifestName"),
    ("segment too short", {"MssPackage": {"MssManifests": [{}], "SegmentDurationSeconds": 0}}, "segmentDurationSeconds"),
    ("segment too long", {"CmafPackage": {"HlsManifests": [{}], "SegmentDurationSeconds": 31}}, "segmentDurationSeconds"),
    ("bitrate range", {"HlsPackage": {"HlsManifests": [{"StreamSelection": {"MinVideoBitsPerSecond": 9, "MaxVideoBitsPerSecond": 8}}]}}, "greater than"),
    ("negative bitrate", {"MssPackage": {"MssManifests": [{"StreamSelection": {"MinVideoBitsPerSecond": -1}}]}}, "negative"),
    ("negative PDT", {"HlsPackage": {"HlsManifests": [{"ProgramDateTimeIntervalSeconds": -5}]}}, "negative"),
    ("short constant IV", {"HlsPackage": hls_with(ConstantInitializationVector="abcd", SpekeKeyProvider=speke([AES128]))}, "32 hexadecimal"),
    ("non-hex constant IV", {"CmafPackage": {"HlsManifests": [{}], "Encryption": {
        "ConstantInitializationVector": "z" * 32, "SpekeKeyProvider": speke([WIDEVINE])}}}, "32 hexadecimal"),
    ("HLS two system ids", {"HlsPackage": hls_with(SpekeKeyProvider=speke([FAIRPLAY, WIDEVINE]))}, "exactly 1"),
    ("DASH three system ids", {"DashPackage": {"DashManifests": [{}], "Encryption": {
        "SpekeKeyProvider": speke([WIDEVINE, PLAYREADY, AES128])}}}, "1 to 2"),
    ("CMAF four system ids", {"CmafPackage": {"HlsManifests": [{}], "Encryption": {
        "SpekeKeyProvider": speke([WIDEVINE, PLAYREADY, FAIRPLAY, AES128], v2=("SHARED", "SHARED"))}}}, "1 to 3"),
    ("no system ids", {"MssPackage": {"MssManifests": [{}], "Encryption": {"SpekeKeyProvider": speke([])}}}, "exactly 1"),
    ("system id not a UUID", {"HlsPackage": hls_with(SpekeKeyProvider=speke(["widevine"]))}, "UUID"),
    ("DASH FairPlay", {"DashPackage": {"DashManifests": [{}], "Encryption": {"SpekeKeyProvider": speke([FAIRPLAY])}}}, "FairPlay"),
    ("MSS Widevine", {"MssPackage": {"MssManifests": [{}], "Encryption": {"SpekeKeyProvider": speke([WIDEVINE])}}}, "PlayReady"),
    ("CMAF PlayReady on SPEKE v1", {"CmafPackage": {"HlsManifests": [{}], "Encryption": {"SpekeKeyProvider": speke([PLAYREADY])}}}, "SPEKE v2"),
    ("SPEKE v2 on HLS", {"HlsPackage": hls_with(SpekeKeyProvider=speke([FAIRPLAY], v2=("PRESET-AUDIO-1", "PRESET-VIDEO-1")))}, "only for DASH and CMAF"),
    ("SPEKE v2 on MSS", {"MssPackage": {"MssManifests": [{}], "Encryption": {
        "SpekeKeyProvider": speke([PLAYREADY], v2=("PRESET-AUDIO-1", "PRESET-VIDEO-1"))}}}, "only for DASH and CMAF"),
    ("SHARED on one side", {"DashPackage": {"DashManifests": [{}], "Encryption": {
        "SpekeKeyProvider": speke([WIDEVINE], v2=("SHARED", "PRESET-VIDEO-2"))}}}, "SHARED"),
    ("both UNENCRYPTED", {"CmafPackage": {"HlsManifests": [{}], "Encryption": {
        "SpekeKeyProvider": speke([WIDEVINE], v2=("UNENCRYPTED", "UNENCRYPTED"))}}}, "UNENCRYPTED"),
    ("SPEKE URL", {"HlsPackage": hls_with(SpekeKeyProvider=dict(speke([AES128]), Url="not a url"))}, "URL"),
    ("SPEKE role", {"HlsPackage": hls_with(SpekeKeyProvider=dict(speke([AES128]), RoleArn="arn:aws:s3:::b"))}, "role"),
    ("periods with @duration", {"DashPackage": {"DashManifests": [{}], "SegmentTemplateFormat": "NUMBER_WITH_DURATION",
                                                "PeriodTriggers": ["ADS"]}}, "periodTriggers"),
    ("bad enum", {"DashPackage": {"DashManifests": [{"Profile": "HBBTV_2"}]}}, None),
]


@pytest.mark.parametrize("name,package,needle", INVALID, ids=[i[0] for i in INVALID])
def test_semantic_validation(api_server, name, package, needle):
    c = mpv(api_server)
    expect_error(c.create_packaging_configuration, "UnprocessableEntityException", 422, needle, Id="bad", PackagingGroupId="grp", **package)
    expect_error(c.describe_packaging_configuration, "NotFoundException", 404, Id="bad")


def test_unknown_group_duplicate_and_not_found(api_server):
    c = mpv(api_server)
    expect_error(c.create_packaging_configuration, "UnprocessableEntityException", 422, "nope",
                 Id="x", PackagingGroupId="nope", HlsPackage={"HlsManifests": [{}]})
    c.create_packaging_configuration(Id="x", PackagingGroupId="grp", HlsPackage={"HlsManifests": [{}]})
    expect_error(c.create_packaging_configuration, "UnprocessableEntityException", 422, "already exists",
                 Id="x", PackagingGroupId="grp", DashPackage={"DashManifests": [{}]})
    expect_error(c.create_packaging_configuration, "UnprocessableEntityException", 422, "letters",
                 Id="x y", PackagingGroupId="grp", HlsPackage={"HlsManifests": [{}]})
    expect_error(c.describe_packaging_configuration, "NotFoundException", 404, "missing", Id="missing")
    expect_error(c.delete_packaging_configuration, "NotFoundException", 404, Id="missing")
    r = c.delete_packaging_configuration(Id="x")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    expect_error(c.describe_packaging_configuration, "NotFoundException", 404, Id="x")


def test_quota_per_group_and_list_filter(api_server):
    c = mpv(api_server)
    c.create_packaging_group(Id="grp2")
    for i in range(10):
        c.create_packaging_configuration(Id=f"c{i}", PackagingGroupId="grp", MssPackage={"MssManifests": [{}]})
    msg = expect_error(c.create_packaging_configuration, "TooManyRequestsException", 429,
                       Id="c10", PackagingGroupId="grp", MssPackage={"MssManifests": [{}]})
    assert "Resource limit exceeded" in msg
    # The quota is per group.
    c.create_packaging_configuration(Id="other", PackagingGroupId="grp2", HlsPackage={"HlsManifests": [{}]})
    in_grp = c.list_packaging_configurations(PackagingGroupId="grp")["PackagingConfigurations"]
    assert [x["Id"] for x in in_grp] == [f"c{i}" for i in range(10)]
    assert [x["Id"] for x in c.list_packaging_configurations(PackagingGroupId="grp2")["PackagingConfigurations"]] == ["other"]
    assert len(c.list_packaging_configurations()["PackagingConfigurations"]) == 11
    assert c.list_packaging_configurations(PackagingGroupId="none")["PackagingConfigurations"] == []

    p = c.get_paginator("list_packaging_configurations")
    pages = list(p.paginate(PackagingGroupId="grp", PaginationConfig={"PageSize": 4}))
    assert [len(x["PackagingConfigurations"]) for x in pages] == [4, 4, 2]
    head = p.paginate(PaginationConfig={"MaxItems": 5, "PageSize": 2}).build_full_result()
    assert len(head["PackagingConfigurations"]) == 5
    tail = p.paginate(PaginationConfig={"StartingToken": head["NextToken"], "PageSize": 4}).build_full_result()
    assert [x["Id"] for x in head["PackagingConfigurations"] + tail["PackagingConfigurations"]] == [f"c{i}" for i in range(10)] + ["other"]
    # A token of one filter does not continue another listing.
    first = c.list_packaging_configurations(PackagingGroupId="grp", MaxResults=2)
    expect_error(c.list_packaging_configurations, "UnprocessableEntityException", 422, NextToken=first["NextToken"], PackagingGroupId="grp2")


def test_tags_on_configurations(api_server):
    c = mpv(api_server)
    arn = c.create_packaging_configuration(Id="t", PackagingGroupId="grp", HlsPackage={"HlsManifests": [{}]}, Tags={"k": "v"})["Arn"]
    c.tag_resource(ResourceArn=arn, Tags={"k2": "v2"})
    c.untag_resource(ResourceArn=arn, TagKeys=["k"])
    assert c.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"k2": "v2"}
    assert c.describe_packaging_configuration(Id="t")["Tags"] == {"k2": "v2"}
    c.delete_packaging_configuration(Id="t")
    expect_error(c.list_tags_for_resource, "NotFoundException", 404, ResourceArn=arn)


def cli(server, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
               AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
    p = subprocess.run(["aws", "--endpoint-url", server.url, "mediapackage-vod", *args], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


CLI_ARG = {"HlsPackage": "--hls-package", "DashPackage": "--dash-package", "CmafPackage": "--cmaf-package", "MssPackage": "--mss-package"}


def test_aws_cli_round_trip_each_package_type(api_server):
    if api_server.backend != "sqlite":
        pytest.skip("the CLI round trip exercises the wire, not the store: once is enough")
    c = mpv(api_server)
    for ptype, flag in CLI_ARG.items():
        pkg = copy.deepcopy(FULL[ptype])
        created = cli(api_server, "create-packaging-configuration", "--id", f"cli-{ptype}", "--packaging-group-id", "grp",
                      flag, json.dumps(pkg), "--tags", json.dumps({"via": "cli"}))
        assert created[ptype] == pkg
        described = cli(api_server, "describe-packaging-configuration", "--id", f"cli-{ptype}")
        assert described == created
        assert strip(c.describe_packaging_configuration(Id=f"cli-{ptype}")) == created
    listed = cli(api_server, "list-packaging-configurations", "--packaging-group-id", "grp")
    assert sorted(x["Id"] for x in listed["PackagingConfigurations"]) == sorted(f"cli-{t}" for t in CLI_ARG)
