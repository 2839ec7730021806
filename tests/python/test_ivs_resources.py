"""IVS low-latency resources that channels reference: recording configurations, playback
restriction policies, ad configurations, failover slate configurations, and playback key pairs,
through boto3 on SQLite and PostgreSQL (the `api_server` fixture), plus quotas on a server
started with lowered `REELAY_IVS_QUOTA_*` values.
"""
import botocore.exceptions
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import Reelay, reset

ACCOUNT = "000000000000"
REGION = "us-east-1"
MT_ARN = f"arn:aws:mediatailor:{REGION}:{ACCOUNT}:playbackConfiguration/pc1"
MT_ARN2 = f"arn:aws:mediatailor:{REGION}:{ACCOUNT}:playbackConfiguration/pc2"


@pytest.fixture
def ivs(api_server):
    reset(api_server)
    # No client-side validation: the server must refuse bad input itself.
    return api_server.client("ivs", parameter_validation=False)


def error_of(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        call(*args, **kwargs)
    e = ei.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


def p384_pem():
    key = ec.generate_private_key(ec.SECP384R1())
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def paged(ivs, op, result_key, n_expected, page_size=2, **kw):
    pages = list(ivs.get_paginator(op).paginate(PaginationConfig={"PageSize": page_size}, **kw))
    items = [x for p in pages for x in p[result_key]]
    assert len(items) == n_expected, (op, len(items))
    assert len(pages) == -(-n_expected // page_size), (op, len(pages))
    assert len({x["arn"] for x in items}) == n_expected
    return items


# --- Recording configurations -----------------------------------------------------------------

def test_recording_configuration_lifecycle(ivs, api_server):
    code, status = error_of(ivs.create_recording_configuration,
                            destinationConfiguration={"s3": {"bucketName": "no-such-bucket"}})
    assert (code, status) == ("ValidationException", 400)
    api_server.client("s3").create_bucket(Bucket="rec-bucket")
    rc = ivs.create_recording_configuration(
        destinationConfiguration={"s3": {"bucketName": "rec-bucket"}})["recordingConfiguration"]
    assert rc["state"] == "CREATING"
    assert rc["name"] == "" and rc["tags"] == {}
    assert rc["recordingReconnectWindowSeconds"] == 0
    assert rc["thumbnailConfiguration"] == {"recordingMode": "INTERVAL", "targetIntervalSeconds": 60,
                                            "storage": ["SEQUENTIAL"]}
    assert rc["renditionConfiguration"] == {"renditionSelection": "ALL", "renditions": []}
    got = ivs.get_recording_configuration(arn=rc["arn"])["recordingConfiguration"]
    assert got == dict(rc, state="ACTIVE")
    full = ivs.create_recording_configuration(
        name="full", destinationConfiguration={"s3": {"bucketName": "rec-bucket"}}, tags={"k": "v"},
        thumbnailConfiguration={"recordingMode": "INTERVAL", "targetIntervalSeconds": 1,
                                "resolution": "LOWEST_RESOLUTION", "storage": ["LATEST", "SEQUENTIAL"]},
        recordingReconnectWindowSeconds=60,
        renditionConfiguration={"renditionSelection": "CUSTOM", "renditions": ["HD", "SD"]},
    )["recordingConfiguration"]
    assert full["thumbnailConfiguration"]["resolution"] == "LOWEST_RESOLUTION"
    assert sorted(full["thumbnailConfiguration"]["storage"]) == ["LATEST", "SEQUENTIAL"]
    assert full["recordingReconnectWindowSeconds"] == 60
    assert sorted(full["renditionConfiguration"]["renditions"]) == ["HD", "SD"]
    off = ivs.create_recording_configuration(
        destinationConfiguration={"s3": {"bucketName": "rec-bucket"}},
        thumbnailConfiguration={"recordingMode": "DISABLED"})["recordingConfiguration"]
    assert off["thumbnailConfiguration"]["recordingMode"] == "DISABLED"
    for bad in [
        {"recordingReconnectWindowSeconds": 301},
        {"thumbnailConfiguration": {"targetIntervalSeconds": 61}},
        {"thumbnailConfiguration": {"targetIntervalSeconds": 0}},
        {"thumbnailConfiguration": {"recordingMode": "DISABLED", "targetIntervalSeconds": 5}},
        {"renditionConfiguration": {"renditionSelection": "CUSTOM"}},
        {"name": "no spaces"},
    ]:
        code, status = error_of(ivs.create_recording_configuration,
                                destinationConfiguration={"s3": {"bucketName": "rec-bucket"}}, **bad)
        assert (code, status) == ("ValidationException", 400), bad
    code, _ = error_of(ivs.create_recording_configuration, destinationConfiguration={"s3": {"bucketName": "UPPER"}})
    assert code == "ValidationException"

    summaries = paged(ivs, "list_recording_configurations", "recordingConfigurations", 3)
    assert {s["state"] for s in summaries} == {"ACTIVE"}
    assert all(s["destinationConfiguration"] == {"s3": {"bucketName": "rec-bucket"}} for s in summaries)

    ch = ivs.create_channel(recordingConfigurationArn=full["arn"])["channel"]
    code, status = error_of(ivs.delete_recording_configuration, arn=full["arn"])
    assert (code, status) == ("ConflictException", 409)
    ivs.update_channel(arn=ch["arn"], recordingConfigurationArn="")
    assert ivs.delete_recording_configuration(arn=full["arn"])["ResponseMetadata"]["HTTPStatusCode"] == 204
    code, status = error_of(ivs.get_recording_configuration, arn=full["arn"])
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert error_of(ivs.delete_recording_configuration, arn=full["arn"])[0] == "ResourceNotFoundException"
    # A deleted configuration can no longer be referenced.
    code, _ = error_of(ivs.update_channel, arn=ch["arn"], recordingConfigurationArn=full["arn"])
    assert code == "ValidationException"


# --- Playback restriction policies ------------------------------------------------------------

def test_playback_restriction_policy_lifecycle(ivs):
    p = ivs.create_playback_restriction_policy()["playbackRestrictionPolicy"]
    assert p["allowedCountries"] == [] and p["allowedOrigins"] == []
    assert p["enableStrictOriginEnforcement"] is False and p["name"] == "" and p["tags"] == {}
    full = ivs.create_playback_restriction_policy(
        name="geo", allowedCountries=["US", "MX"], allowedOrigins=["https://www.website1.com", "https://a.example:8443"],
        enableStrictOriginEnforcement=True, tags={"k": "v"})["playbackRestrictionPolicy"]
    assert ivs.get_playback_restriction_policy(arn=full["arn"])["playbackRestrictionPolicy"] == full
    upd = ivs.update_playback_restriction_policy(arn=full["arn"], allowedCountries=["FR"], name="geo2",
                                                 enableStrictOriginEnforcement=False)["playbackRestrictionPolicy"]
    assert upd["allowedCountries"] == ["FR"] and upd["name"] == "geo2"
    assert upd["allowedOrigins"] == full["allowedOrigins"] and upd["enableStrictOriginEnforcement"] is False
    assert upd["tags"] == {"k": "v"}
    assert ivs.get_playback_restriction_policy(arn=full["arn"])["playbackRestrictionPolicy"] == upd
    for bad in [{"allowedCountries": ["USA"]}, {"allowedCountries": ["us"]}, {"allowedOrigins": ["not an origin"]},
                {"allowedOrigins": ["https://x.example/path"]}]:
        assert error_of(ivs.create_playback_restriction_policy, **bad) == ("ValidationException", 400), bad
        assert error_of(ivs.update_playback_restriction_policy, arn=full["arn"], **bad)[0] == "ValidationException"
    listed = ivs.list_playback_restriction_policies(maxResults=1)
    assert len(listed["playbackRestrictionPolicies"]) == 1 and listed["nextToken"]
    rest = ivs.list_playback_restriction_policies(nextToken=listed["nextToken"])
    assert len(rest["playbackRestrictionPolicies"]) == 1 and "nextToken" not in rest

    ch = ivs.create_channel(playbackRestrictionPolicyArn=full["arn"])["channel"]
    assert error_of(ivs.delete_playback_restriction_policy, arn=full["arn"]) == ("ConflictException", 409)
    ivs.delete_channel(arn=ch["arn"])
    r = ivs.delete_playback_restriction_policy(arn=full["arn"])
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    for call in (ivs.get_playback_restriction_policy, ivs.delete_playback_restriction_policy):
        assert error_of(call, arn=full["arn"]) == ("ResourceNotFoundException", 404)
    assert error_of(ivs.update_playback_restriction_policy, arn=full["arn"], name="x")[0] == "ResourceNotFoundException"


# --- Ad configurations ------------------------------------------------------------------------

def test_ad_configuration_lifecycle(ivs):
    a = ivs.create_ad_configuration(mediaTailorPlaybackConfigurations=[{"playbackConfigurationArn": MT_ARN}])
    a = a["adConfiguration"]
    assert a["name"] == "" and a["tags"] == {}
    assert a["postRollConfiguration"] == {"enabled": False, "durationSeconds": 15}
    assert a["mediaTailorPlaybackConfigurations"] == [{"playbackConfigurationArn": MT_ARN}]
    assert ivs.get_ad_configuration(arn=a["arn"])["adConfiguration"] == a
    u = ivs.update_ad_configuration(
        arn=a["arn"], name="ads", postRollConfiguration={"enabled": True, "durationSeconds": 30},
        mediaTailorPlaybackConfigurations=[{"playbackConfigurationArn": MT_ARN2}, {"playbackConfigurationArn": MT_ARN}],
    )["adConfiguration"]
    assert u["name"] == "ads" and u["postRollConfiguration"] == {"enabled": True, "durationSeconds": 30}
    assert [m["playbackConfigurationArn"] for m in u["mediaTailorPlaybackConfigurations"]] == [MT_ARN2, MT_ARN]
    assert ivs.get_ad_configuration(arn=a["arn"])["adConfiguration"] == u
    for bad in [{"mediaTailorPlaybackConfigurations": []},
                {"mediaTailorPlaybackConfigurations": [{}]},
                {"mediaTailorPlaybackConfigurations": [{"playbackConfigurationArn": MT_ARN}] * 4},
                {"mediaTailorPlaybackConfigurations": [{"playbackConfigurationArn": MT_ARN}],
                 "postRollConfiguration": {"enabled": True, "durationSeconds": 0}}]:
        assert error_of(ivs.create_ad_configuration, **bad) == ("ValidationException", 400), bad
    ivs.create_ad_configuration(mediaTailorPlaybackConfigurations=[{"playbackConfigurationArn": MT_ARN}], tags={"x": "y"})
    ivs.create_ad_configuration(mediaTailorPlaybackConfigurations=[{"playbackConfigurationArn": MT_ARN}])
    paged(ivs, "list_ad_configurations", "adConfigurations", 3)
    ch = ivs.create_channel(adConfigurationArn=a["arn"])["channel"]
    assert [c["arn"] for c in ivs.list_channels(filterByAdConfigurationArn=a["arn"])["channels"]] == [ch["arn"]]
    assert error_of(ivs.delete_ad_configuration, arn=a["arn"]) == ("ConflictException", 409)
    ivs.update_channel(arn=ch["arn"], adConfigurationArn="")
    assert ivs.delete_ad_configuration(arn=a["arn"])["ResponseMetadata"]["HTTPStatusCode"] == 204
    for call, kw in [(ivs.get_ad_configuration, {}), (ivs.delete_ad_configuration, {}),
                     (ivs.update_ad_configuration, {"name": "x"})]:
        assert error_of(call, arn=a["arn"], **kw) == ("ResourceNotFoundException", 404)


# --- Failover slate configurations ------------------------------------------------------------

def test_failover_slate_configuration_lifecycle(ivs):
    f = ivs.create_failover_slate_configuration()["failoverSlateConfiguration"]
    assert f["state"] == "CREATING"
    assert (f["activationThresholdSeconds"], f["minSlateDisplaySeconds"], f["maxSlateDisplaySeconds"]) == (3, 3, 60)
    got = ivs.get_failover_slate_configuration(arn=f["arn"])["failoverSlateConfiguration"]
    assert got == dict(f, state="CREATED")
    u = ivs.update_failover_slate_configuration(arn=f["arn"], name="slate", activationThresholdSeconds=5,
                                                minSlateDisplaySeconds=10, maxSlateDisplaySeconds=180)
    u = u["failoverSlateConfiguration"]
    assert u["state"] == "UPDATING" and u["name"] == "slate"
    got = ivs.get_failover_slate_configuration(arn=f["arn"])["failoverSlateConfiguration"]
    assert got == dict(u, state="CREATED")
    for bad in [{"activationThresholdSeconds": 2}, {"activationThresholdSeconds": 6}, {"minSlateDisplaySeconds": 11},
                {"maxSlateDisplaySeconds": 59}, {"maxSlateDisplaySeconds": 181}]:
        assert error_of(ivs.create_failover_slate_configuration, **bad) == ("ValidationException", 400), bad
    ivs.create_failover_slate_configuration(name="b", tags={"t": "1"})
    ivs.create_failover_slate_configuration(name="c")
    summaries = paged(ivs, "list_failover_slate_configurations", "failoverSlateConfigurations", 3)
    assert {s["state"] for s in summaries} == {"CREATED"}
    ch = ivs.create_channel(failoverSlateConfigurationArn=f["arn"])["channel"]
    assert ch["failoverSlateConfigurationArn"] == f["arn"]
    assert len(ivs.list_channels(filterByFailoverSlateConfigurationArn=f["arn"])["channels"]) == 1
    assert error_of(ivs.delete_failover_slate_configuration, arn=f["arn"]) == ("ConflictException", 409)
    ivs.update_channel(arn=ch["arn"], failoverSlateConfigurationArn="")
    assert ivs.delete_failover_slate_configuration(arn=f["arn"])["ResponseMetadata"]["HTTPStatusCode"] == 204
    for call, kw in [(ivs.get_failover_slate_configuration, {}), (ivs.delete_failover_slate_configuration, {}),
                     (ivs.update_failover_slate_configuration, {"name": "x"})]:
        assert error_of(call, arn=f["arn"], **kw) == ("ResourceNotFoundException", 404)


# --- Playback key pairs -----------------------------------------------------------------------

def test_playback_key_pairs(ivs):
    pems = [p384_pem() for _ in range(3)]
    kps = [ivs.import_playback_key_pair(publicKeyMaterial=pem, name=f"k{i}", tags={"i": str(i)})["keyPair"]
           for i, pem in enumerate(pems)]
    for kp in kps:
        assert kp["arn"].startswith(f"arn:aws:ivs:{REGION}:{ACCOUNT}:playback-key/")
        assert len(kp["fingerprint"].split(":")) == 16
        assert ivs.get_playback_key_pair(arn=kp["arn"])["keyPair"] == kp
    # Default quota: 3 key pairs per account and region.
    assert error_of(ivs.import_playback_key_pair, publicKeyMaterial=p384_pem()) == ("ServiceQuotaExceededException", 402)
    summaries = paged(ivs, "list_playback_key_pairs", "keyPairs", 3)
    assert {s["name"] for s in summaries} == {"k0", "k1", "k2"}
    assert all("fingerprint" not in s for s in summaries)
    r = ivs.delete_playback_key_pair(arn=kps[0]["arn"])
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert error_of(ivs.get_playback_key_pair, arn=kps[0]["arn"]) == ("ResourceNotFoundException", 404)
    assert error_of(ivs.delete_playback_key_pair, arn=kps[0]["arn"]) == ("ResourceNotFoundException", 404)
    # Deleting frees the fingerprint: the same key can come back (with a new ARN).
    again = ivs.import_playback_key_pair(publicKeyMaterial=pems[0])["keyPair"]
    assert again["fingerprint"] == kps[0]["fingerprint"] and again["arn"] != kps[0]["arn"]
    assert ivs.list_tags_for_resource(resourceArn=kps[1]["arn"])["tags"] == {"i": "1"}


# --- Tags on every resource type --------------------------------------------------------------

def test_tags_on_every_resource_type(ivs, api_server):
    api_server.client("s3").create_bucket(Bucket="tag-bucket")
    arns = [
        ivs.create_recording_configuration(destinationConfiguration={"s3": {"bucketName": "tag-bucket"}},
                                           tags={"a": "1"})["recordingConfiguration"]["arn"],
        ivs.create_playback_restriction_policy(tags={"a": "1"})["playbackRestrictionPolicy"]["arn"],
        ivs.create_ad_configuration(mediaTailorPlaybackConfigurations=[{"playbackConfigurationArn": MT_ARN}],
                                    tags={"a": "1"})["adConfiguration"]["arn"],
        ivs.create_failover_slate_configuration(tags={"a": "1"})["failoverSlateConfiguration"]["arn"],
        ivs.import_playback_key_pair(publicKeyMaterial=p384_pem(), tags={"a": "1"})["keyPair"]["arn"],
    ]
    for arn in arns:
        assert ivs.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1"}, arn
        ivs.tag_resource(resourceArn=arn, tags={"b": "2"})
        ivs.untag_resource(resourceArn=arn, tagKeys=["a"])
        assert ivs.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}, arn
    assert ivs.get_ad_configuration(arn=arns[2])["adConfiguration"]["tags"] == {"b": "2"}
    # An ARN of a type IVS does not have.
    bogus = f"arn:aws:ivs:{REGION}:{ACCOUNT}:no-such-type/abc"
    assert error_of(ivs.list_tags_for_resource, resourceArn=bogus) == ("ResourceNotFoundException", 404)


# --- Quotas from the environment --------------------------------------------------------------

def test_quotas_are_configurable():
    env = {"REELAY_IVS_QUOTA_CHANNELS": "2", "REELAY_IVS_QUOTA_RECORDING_CONFIGURATIONS": "1",
           "REELAY_IVS_QUOTA_PLAYBACK_RESTRICTION_POLICIES": "1", "REELAY_IVS_QUOTA_AD_CONFIGURATIONS": "1",
           "REELAY_IVS_QUOTA_FAILOVER_SLATE_CONFIGURATIONS": "1", "REELAY_IVS_QUOTA_PLAYBACK_KEY_PAIRS": "1"}
    with Reelay(env=env) as server:
        ivs = server.client("ivs")
        server.client("s3").create_bucket(Bucket="quota-bucket")
        creates = [
            lambda: ivs.create_channel(),
            lambda: ivs.create_recording_configuration(destinationConfiguration={"s3": {"bucketName": "quota-bucket"}}),
            lambda: ivs.create_playback_restriction_policy(),
            lambda: ivs.create_ad_configuration(mediaTailorPlaybackConfigurations=[{"playbackConfigurationArn": MT_ARN}]),
            lambda: ivs.create_failover_slate_configuration(),
            lambda: ivs.import_playback_key_pair(publicKeyMaterial=p384_pem()),
        ]
        ivs.create_channel()
        for create in creates:
            create()
            assert error_of(create) == ("ServiceQuotaExceededException", 402)
        # Another region has its own count.
        assert server.client("ivs", region="us-west-2").create_channel()["channel"]["arn"]
