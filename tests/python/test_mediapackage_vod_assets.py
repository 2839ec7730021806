"""MediaPackage VOD assets, egress endpoints, quotas, the event log and restarts, on SQLite and PostgreSQL."""
import json
import re
import tempfile
import time

import pytest

from conftest import Reelay, backend_args, reset
from test_mediapackage_vod_support import FULL, ROLE, SOURCE_BUCKET, expect_error, mpv, put_source, s3

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
HEX = "[0-9a-f]{32}"


@pytest.fixture(autouse=True)
def clean(api_server):
    reset(api_server)


def setup_group(server, group="grp", configs=("hls", "dash")):
    c = mpv(server)
    c.create_packaging_group(Id=group)
    kinds = {"hls": ("HlsPackage", {"HlsManifests": [{"ManifestName": "main"}]}),
             "dash": ("DashPackage", {"DashManifests": [{}]}),
             "cmaf": ("CmafPackage", {"HlsManifests": [{"ManifestName": "cm"}]}),
             "mss": ("MssPackage", {"MssManifests": [{"ManifestName": "sm"}]})}
    for name in configs:
        ptype, pkg = kinds[name]
        c.create_packaging_configuration(Id=f"{group}-{name}", PackagingGroupId=group, **{ptype: pkg})
    return c


def test_create_describe_with_every_member(api_server):
    c = setup_group(api_server, configs=("hls", "dash", "cmaf", "mss"))
    src = put_source(api_server)
    created = c.create_asset(Id="lion", PackagingGroupId="grp", SourceArn=src, SourceRoleArn=ROLE, ResourceId="content-42",
                             Tags={"title": "lion"})
    assert created["Arn"].endswith(":assets/lion") and created["Arn"].startswith("arn:aws:mediapackage-vod:us-east-1:")
    assert (created["Id"], created["PackagingGroupId"], created["SourceArn"], created["SourceRoleArn"], created["ResourceId"]) == (
        "lion", "grp", src, ROLE, "content-42")
    assert created["Tags"] == {"title": "lion"}
    assert ISO.match(created["CreatedAt"])
    domain = c.describe_packaging_group(Id="grp")["DomainName"]
    eps = {e["PackagingConfigurationId"]: e for e in created["EgressEndpoints"]}
    assert set(eps) == {"grp-hls", "grp-dash", "grp-cmaf", "grp-mss"}
    # CreateAsset answers with the committed state: every endpoint waits in QUEUED.
    assert {e["Status"] for e in eps.values()} == {"QUEUED"}
    pattern = re.escape(domain) + rf"/out/v1/({HEX})/({HEX})/({HEX})/"
    suffix = {"grp-hls": "main.m3u8", "grp-dash": "index.mpd", "grp-cmaf": "cm.m3u8", "grp-mss": "sm.ism/Manifest"}
    h1s = set()
    for cid, e in eps.items():
        m = re.match(pattern + re.escape(suffix[cid]) + "$", e["Url"])
        assert m, e["Url"]
        h1s.add(m.group(1))
    assert len(h1s) == 1, "one asset's endpoints share the asset segment"
    described = c.describe_asset(Id="lion")
    described.pop("ResponseMetadata")
    created.pop("ResponseMetadata")
    # The engine moves on meanwhile (this source names a missing MP4, so it ends FAILED).
    for e in described["EgressEndpoints"]:
        assert e.pop("Status") in ("QUEUED", "PROCESSING", "FAILED")
    for e in created["EgressEndpoints"]:
        e.pop("Status")
    assert described == created


def test_egress_endpoints_follow_the_group(api_server):
    c = setup_group(api_server, configs=("hls",))
    c.create_asset(Id="a", PackagingGroupId="grp", SourceArn=put_source(api_server), SourceRoleArn=ROLE)
    first = c.describe_asset(Id="a")["EgressEndpoints"]
    assert [e["PackagingConfigurationId"] for e in first] == ["grp-hls"]
    c.create_packaging_configuration(Id="grp-zz", PackagingGroupId="grp", DashPackage={"DashManifests": [{}]})
    second = c.describe_asset(Id="a")["EgressEndpoints"]
    assert [e["PackagingConfigurationId"] for e in second] == ["grp-hls", "grp-zz"]
    assert second[0]["Url"] == first[0]["Url"], "URLs are stable"
    c.delete_packaging_configuration(Id="grp-hls")
    assert [e["PackagingConfigurationId"] for e in c.describe_asset(Id="a")["EgressEndpoints"]] == ["grp-zz"]
    # resourceId defaults to the asset id.
    assert c.describe_asset(Id="a")["ResourceId"] == "a"
    # Another asset gets its own URLs.
    c.create_asset(Id="b", PackagingGroupId="grp", SourceArn=put_source(api_server), SourceRoleArn=ROLE)
    assert c.describe_asset(Id="b")["EgressEndpoints"][0]["Url"] != c.describe_asset(Id="a")["EgressEndpoints"][0]["Url"]


def test_asset_errors(api_server):
    c = setup_group(api_server, configs=())
    src = put_source(api_server)
    create = c.create_asset
    expect_error(create, "UnprocessableEntityException", 422, "nope", Id="x", PackagingGroupId="nope", SourceArn=src, SourceRoleArn=ROLE)
    expect_error(create, "UnprocessableEntityException", 422, "S3 object ARN", Id="x", PackagingGroupId="grp",
                 SourceArn="arn:aws:mediapackage-vod:us-east-1:000000000000:assets/y", SourceRoleArn=ROLE)
    expect_error(create, "UnprocessableEntityException", 422, "S3 object ARN", Id="x", PackagingGroupId="grp",
                 SourceArn=f"arn:aws:s3:::{SOURCE_BUCKET}", SourceRoleArn=ROLE)
    expect_error(create, "UnprocessableEntityException", 422, "bucket 'no-such-bucket' does not exist", Id="x",
                 PackagingGroupId="grp", SourceArn="arn:aws:s3:::no-such-bucket/a.smil", SourceRoleArn=ROLE)
    expect_error(create, "UnprocessableEntityException", 422, "object 'missing.smil' does not exist", Id="x",
                 PackagingGroupId="grp", SourceArn=f"arn:aws:s3:::{SOURCE_BUCKET}/missing.smil", SourceRoleArn=ROLE)
    expect_error(create, "UnprocessableEntityException", 422, "role", Id="x", PackagingGroupId="grp", SourceArn=src,
                 SourceRoleArn="role")
    expect_error(create, "UnprocessableEntityException", 422, "letters", Id="a/b", PackagingGroupId="grp", SourceArn=src,
                 SourceRoleArn=ROLE)
    # The ARN form with an account, as in the AWS CLI example, is accepted.
    c.create_asset(Id="x", PackagingGroupId="grp", SourceArn=src.replace(":::", "::111122223333:"), SourceRoleArn=ROLE)
    expect_error(create, "UnprocessableEntityException", 422, "already exists", Id="x", PackagingGroupId="grp", SourceArn=src,
                 SourceRoleArn=ROLE)
    expect_error(c.describe_asset, "NotFoundException", 404, "ghost", Id="ghost")
    expect_error(c.delete_asset, "NotFoundException", 404, Id="ghost")
    assert c.delete_asset(Id="x")["ResponseMetadata"]["HTTPStatusCode"] == 202
    expect_error(c.describe_asset, "NotFoundException", 404, Id="x")


def test_list_assets_filter_and_paginator(api_server):
    c = setup_group(api_server, group="g1", configs=())
    c.create_packaging_group(Id="g2")
    src = put_source(api_server)
    for i in range(5):
        c.create_asset(Id=f"a{i}", PackagingGroupId="g1", SourceArn=src, SourceRoleArn=ROLE, Tags={"n": str(i)})
    c.create_asset(Id="b0", PackagingGroupId="g2", SourceArn=src, SourceRoleArn=ROLE)
    all_assets = c.list_assets()["Assets"]
    assert [a["Id"] for a in all_assets] == ["a0", "a1", "a2", "a3", "a4", "b0"]
    shallow = all_assets[0]
    assert set(shallow) == {"Arn", "CreatedAt", "Id", "PackagingGroupId", "ResourceId", "SourceArn", "SourceRoleArn", "Tags"}
    assert shallow["Tags"] == {"n": "0"}
    assert [a["Id"] for a in c.list_assets(PackagingGroupId="g2")["Assets"]] == ["b0"]
    assert c.describe_packaging_group(Id="g1")["ApproximateAssetCount"] == 5
    p = c.get_paginator("list_assets")
    assert [len(x["Assets"]) for x in p.paginate(PackagingGroupId="g1", PaginationConfig={"PageSize": 2})] == [2, 2, 1]
    head = p.paginate(PaginationConfig={"MaxItems": 3, "PageSize": 2}).build_full_result()
    tail = p.paginate(PaginationConfig={"StartingToken": head["NextToken"]}).build_full_result()
    assert [a["Id"] for a in head["Assets"] + tail["Assets"]] == ["a0", "a1", "a2", "a3", "a4", "b0"]


def test_tags_on_assets(api_server):
    c = setup_group(api_server, configs=())
    arn = c.create_asset(Id="t", PackagingGroupId="grp", SourceArn=put_source(api_server), SourceRoleArn=ROLE)["Arn"]
    assert c.list_tags_for_resource(ResourceArn=arn)["Tags"] == {}
    c.tag_resource(ResourceArn=arn, Tags={"a": "1", "b": "2"})
    c.untag_resource(ResourceArn=arn, TagKeys=["b"])
    assert c.describe_asset(Id="t")["Tags"] == {"a": "1"}


def read_events(server, account="000000000000", region="us-east-1"):
    c = s3(server)
    bucket = f"reelay-mediapackage-vod-events-{account}"
    keys = [o["Key"] for o in c.list_objects_v2(Bucket=bucket, Prefix=f"{region}/").get("Contents", [])]
    return [json.loads(c.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys]


def test_event_log(api_server):
    c = setup_group(api_server, configs=("hls",))
    src = put_source(api_server)
    arn = c.create_asset(Id="ev", PackagingGroupId="grp", SourceArn=src, SourceRoleArn=ROLE)["Arn"]
    c.delete_asset(Id="ev")
    # Only the API-call events: the packaging engine adds its own ingest events.
    events = [e for e in read_events(api_server) if e["detail-type"] == "AWS API Call via CloudTrail"]
    names = [e["detail"]["eventName"] for e in events]
    assert names == ["CreatePackagingGroup", "CreatePackagingConfiguration", "CreateAsset", "DeleteAsset"]
    create = events[2]
    assert create["detail-type"] == "AWS API Call via CloudTrail"
    assert create["source"] == "aws.mediapackage-vod"
    assert create["account"] == "000000000000" and create["region"] == "us-east-1"
    assert create["resources"] == [arn]
    assert create["detail"]["eventSource"] == "mediapackage-vod.amazonaws.com"
    assert create["detail"]["requestParameters"]["sourceArn"] == src
    assert create["detail"]["responseElements"]["egressEndpoints"][0]["status"] == "QUEUED"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", create["time"])
    # Failed calls leave no event; another region has its own stream.
    expect_error(c.delete_asset, "NotFoundException", 404, Id="ev")
    assert len([e for e in read_events(api_server) if e["detail-type"] == "AWS API Call via CloudTrail"]) == 4
    mpv(api_server, region="eu-west-1").create_packaging_group(Id="eu")
    assert [e["region"] for e in read_events(api_server, region="eu-west-1")] == ["eu-west-1"]


def test_asset_quota_is_configurable(api_server):
    args = backend_args(api_server.backend)
    with Reelay(*args, env={"REELAY_MPV_MAX_ASSETS_PER_GROUP": "2", "REELAY_MPV_MAX_PACKAGING_GROUPS": "unlimited",
                            "REELAY_MPV_MAX_CONFIGURATIONS_PER_GROUP": "1"}) as r:
        c = setup_group(r, configs=("hls",))
        expect_error(c.create_packaging_configuration, "TooManyRequestsException", 429, Id="more", PackagingGroupId="grp",
                     MssPackage={"MssManifests": [{}]})
        src = put_source(r)
        c.create_asset(Id="a1", PackagingGroupId="grp", SourceArn=src, SourceRoleArn=ROLE)
        c.create_asset(Id="a2", PackagingGroupId="grp", SourceArn=src, SourceRoleArn=ROLE)
        msg = expect_error(c.create_asset, "TooManyRequestsException", 429, Id="a3", PackagingGroupId="grp", SourceArn=src,
                           SourceRoleArn=ROLE)
        assert msg == "Too many requests, please try again. Resource limit exceeded"
        for i in range(11):
            c.create_packaging_group(Id=f"many{i}")


def test_state_survives_restart(api_server):
    args = backend_args(api_server.backend)
    with tempfile.TemporaryDirectory(prefix="reelay-mpv-") as data_dir:
        first = Reelay(*args, data_dir=data_dir).start()
        try:
            c = setup_group(first, configs=("hls", "dash"))
            c.create_packaging_configuration(Id="full-cmaf", PackagingGroupId="grp", CmafPackage=FULL["CmafPackage"])
            c.configure_logs(Id="grp", EgressAccessLogs={})
            c.create_asset(Id="kept", PackagingGroupId="grp", SourceArn=put_source(first), SourceRoleArn=ROLE, Tags={"k": "v"})
            # Let the packaging engine finish with this asset (its source names a missing MP4).
            deadline = time.monotonic() + 20
            while {e["Status"] for e in c.describe_asset(Id="kept")["EgressEndpoints"]} & {"QUEUED", "PROCESSING"}:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            before = {
                "group": c.describe_packaging_group(Id="grp"),
                "configs": c.list_packaging_configurations()["PackagingConfigurations"],
                "asset": c.describe_asset(Id="kept"),
            }
            old_url = first.url
        finally:
            first.stop()
        second = Reelay(*args, data_dir=data_dir).start()
        try:
            c = mpv(second)
            after = {
                "group": c.describe_packaging_group(Id="grp"),
                "configs": c.list_packaging_configurations()["PackagingConfigurations"],
                "asset": c.describe_asset(Id="kept"),
            }
            for v in (before, after):
                v["group"].pop("ResponseMetadata")
                v["asset"].pop("ResponseMetadata")
            # URLs are built from the public URL, which moved with the new port; the rest is the same.
            text_before = json.dumps(before, sort_keys=True).replace(old_url, "BASE")
            text_after = json.dumps(after, sort_keys=True).replace(second.url, "BASE")
            assert text_after == text_before
            assert after["asset"]["Tags"] == {"k": "v"}
            assert len([e for e in read_events(second) if e["detail-type"] == "AWS API Call via CloudTrail"]) == 6
        finally:
            second.close()
