"""MediaPackage VOD packaging groups, tags and pagination through boto3, on SQLite and PostgreSQL."""
import re

import pytest

from conftest import reset
from test_mediapackage_vod_support import ROLE, SECRET, expect_error, mpv, put_source

GROUP_ARN = re.compile(r"^arn:aws:mediapackage-vod:us-east-1:\d{12}:packaging-groups/(.+)$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
AUTH = {"CdnIdentifierSecret": SECRET, "SecretsRoleArn": ROLE}


@pytest.fixture(autouse=True)
def clean(api_server):
    reset(api_server)


def test_create_describe_round_trip(api_server):
    c = mpv(api_server)
    created = c.create_packaging_group(
        Id="pg-1", Authorization=AUTH, EgressAccessLogs={"LogGroupName": "/aws/MediaPackage/custom"}, Tags={"team": "vod", "env": "test"}
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert GROUP_ARN.match(created["Arn"]).group(1) == "pg-1"
    assert created["Id"] == "pg-1"
    assert created["Authorization"] == AUTH
    assert created["EgressAccessLogs"] == {"LogGroupName": "/aws/MediaPackage/custom"}
    assert created["Tags"] == {"team": "vod", "env": "test"}
    assert ISO.match(created["CreatedAt"]), created["CreatedAt"]
    # The egress "host" is a path under reelay's own URL, with a 32-hex group id like AWS's.
    assert re.match(re.escape(api_server.url) + r"/mediapackage-vod/egress/us-east-1/\d{12}/[0-9a-f]{32}$", created["DomainName"])
    got = c.describe_packaging_group(Id="pg-1")
    for k in ("Arn", "Id", "Authorization", "EgressAccessLogs", "Tags", "CreatedAt", "DomainName"):
        assert got[k] == created[k], k
    assert got["ApproximateAssetCount"] == 0
    # The domain stays the same for the group's life.
    assert c.describe_packaging_group(Id="pg-1")["DomainName"] == created["DomainName"]


def test_minimal_group_and_defaults(api_server):
    c = mpv(api_server)
    g = c.create_packaging_group(Id="plain")
    assert "Authorization" not in g and "EgressAccessLogs" not in g
    assert g["Tags"] == {}
    other = c.create_packaging_group(Id="other")
    assert other["DomainName"] != g["DomainName"]
    # egressAccessLogs without a log group name gets AWS's default group.
    logs = c.configure_logs(Id="plain", EgressAccessLogs={})
    assert logs["EgressAccessLogs"] == {"LogGroupName": "/aws/MediaPackage/EgressAccessLogs"}
    assert c.describe_packaging_group(Id="plain")["EgressAccessLogs"] == logs["EgressAccessLogs"]
    # Without egressAccessLogs, logging is turned off.
    off = c.configure_logs(Id="plain")
    assert "EgressAccessLogs" not in off
    assert "EgressAccessLogs" not in c.describe_packaging_group(Id="plain")


def test_update_authorization(api_server):
    c = mpv(api_server)
    c.create_packaging_group(Id="upd")
    u = c.update_packaging_group(Id="upd", Authorization=AUTH)
    assert u["Authorization"] == AUTH and u["ApproximateAssetCount"] == 0
    assert c.describe_packaging_group(Id="upd")["Authorization"] == AUTH
    cleared = c.update_packaging_group(Id="upd")
    assert "Authorization" not in cleared
    expect_error(c.update_packaging_group, "NotFoundException", 404, Id="nope", Authorization=AUTH)
    expect_error(c.configure_logs, "NotFoundException", 404, Id="nope")
    expect_error(
        c.update_packaging_group, "UnprocessableEntityException", 422, "secret",
        Id="upd", Authorization={"CdnIdentifierSecret": "not-an-arn", "SecretsRoleArn": ROLE},
    )
    expect_error(
        c.update_packaging_group, "UnprocessableEntityException", 422, "role",
        Id="upd", Authorization={"CdnIdentifierSecret": SECRET, "SecretsRoleArn": "arn:aws:iam::1:user/x"},
    )


def test_group_errors(api_server):
    c = mpv(api_server)
    c.create_packaging_group(Id="dup")
    expect_error(c.create_packaging_group, "UnprocessableEntityException", 422, "already exists", Id="dup")
    expect_error(c.create_packaging_group, "UnprocessableEntityException", 422, "letters", Id="bad id!")
    expect_error(c.create_packaging_group, "UnprocessableEntityException", 422, "/aws/MediaPackage/",
                 Id="logs", EgressAccessLogs={"LogGroupName": "elsewhere"})
    expect_error(c.describe_packaging_group, "NotFoundException", 404, "nope", Id="nope")
    expect_error(c.delete_packaging_group, "NotFoundException", 404, Id="nope")


def test_delete_refused_while_group_has_children(api_server):
    c = mpv(api_server)
    c.create_packaging_group(Id="parent")
    c.create_packaging_configuration(Id="cfg", PackagingGroupId="parent", HlsPackage={"HlsManifests": [{}]})
    expect_error(c.delete_packaging_group, "UnprocessableEntityException", 422, "packaging configuration", Id="parent")
    c.delete_packaging_configuration(Id="cfg")
    c.create_asset(Id="a1", PackagingGroupId="parent", SourceArn=put_source(api_server), SourceRoleArn=ROLE)
    assert c.describe_packaging_group(Id="parent")["ApproximateAssetCount"] == 1
    expect_error(c.delete_packaging_group, "UnprocessableEntityException", 422, "1 asset", Id="parent")
    c.delete_asset(Id="a1")
    r = c.delete_packaging_group(Id="parent")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    expect_error(c.describe_packaging_group, "NotFoundException", 404, Id="parent")


def test_quota_of_ten_groups(api_server):
    c = mpv(api_server)
    for i in range(10):
        c.create_packaging_group(Id=f"q{i}")
    msg = expect_error(c.create_packaging_group, "TooManyRequestsException", 429, Id="q10")
    assert msg == "Too many requests, please try again. Resource limit exceeded"
    c.delete_packaging_group(Id="q0")
    c.create_packaging_group(Id="q10")
    # Quotas are per account and region.
    mpv(api_server, region="eu-west-1").create_packaging_group(Id="q0")


def test_list_and_paginators(api_server):
    c = mpv(api_server)
    ids = [f"g{i:02d}" for i in range(7)]
    for i in ids:
        c.create_packaging_group(Id=i)
    everything = c.list_packaging_groups()
    assert [g["Id"] for g in everything["PackagingGroups"]] == ids
    assert "NextToken" not in everything
    assert all(g["ApproximateAssetCount"] == 0 and "DomainName" in g for g in everything["PackagingGroups"])
    page = c.list_packaging_groups(MaxResults=3)
    assert [g["Id"] for g in page["PackagingGroups"]] == ids[:3]
    page2 = c.list_packaging_groups(MaxResults=3, NextToken=page["NextToken"])
    assert [g["Id"] for g in page2["PackagingGroups"]] == ids[3:6]
    expect_error(c.list_packaging_groups, "UnprocessableEntityException", 422, NextToken="garbage")
    expect_error(c.list_packaging_groups, "UnprocessableEntityException", 422, MaxResults=1001)

    p = c.get_paginator("list_packaging_groups")
    pages = list(p.paginate(PaginationConfig={"PageSize": 2}))
    assert [len(x["PackagingGroups"]) for x in pages] == [2, 2, 2, 1]
    first = p.paginate(PaginationConfig={"MaxItems": 4, "PageSize": 3}).build_full_result()
    assert [g["Id"] for g in first["PackagingGroups"]] == ids[:4]
    rest = p.paginate(PaginationConfig={"StartingToken": first["NextToken"], "PageSize": 3}).build_full_result()
    assert [g["Id"] for g in rest["PackagingGroups"]] == ids[4:]
    # Another region sees none of them.
    assert mpv(api_server, region="eu-west-1").list_packaging_groups()["PackagingGroups"] == []


def test_tags_on_groups(api_server):
    c = mpv(api_server)
    arn = c.create_packaging_group(Id="tagged", Tags={"a": "1"})["Arn"]
    assert c.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"a": "1"}
    r = c.tag_resource(ResourceArn=arn, Tags={"b": "2", "a": "one"})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert c.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"a": "one", "b": "2"}
    r = c.untag_resource(ResourceArn=arn, TagKeys=["a", "missing"])
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert c.describe_packaging_group(Id="tagged")["Tags"] == {"b": "2"}
    assert c.list_packaging_groups()["PackagingGroups"][0]["Tags"] == {"b": "2"}
    gone = arn.replace("tagged", "gone")
    for fn, kw in ((c.list_tags_for_resource, {}), (c.tag_resource, {"Tags": {"x": "y"}}), (c.untag_resource, {"TagKeys": ["x"]})):
        expect_error(fn, "NotFoundException", 404, ResourceArn=gone, **kw)
    for bad in ("arn:aws:ivs:us-east-1:000000000000:channel/x", "not-an-arn", arn.replace("packaging-groups", "channels")):
        expect_error(c.list_tags_for_resource, "UnprocessableEntityException", 422, "not a MediaPackage VOD resource ARN", ResourceArn=bad)
    # The same ARN from another region is not this resource.
    expect_error(mpv(api_server, region="eu-west-1").list_tags_for_resource, "NotFoundException", 404, ResourceArn=arn)
    too_many = {f"k{i}": "v" for i in range(51)}
    expect_error(c.tag_resource, "UnprocessableEntityException", 422, ResourceArn=arn, Tags=too_many)
