"""Shared helpers of the MediaPackage VOD suites (this module holds no tests itself)."""
import botocore.config
import pytest

ROLE = "arn:aws:iam::111122223333:role/MediaPackageVod"
SECRET = "arn:aws:secretsmanager:us-east-1:111122223333:secret:MediaPackage/cdn-AbCdEf"
SPEKE_URL = "https://speke.example.com/v1/key"
WIDEVINE = "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"
PLAYREADY = "9a04f079-9840-4286-ab92-e65be0885f95"
FAIRPLAY = "94ce86fb-07ff-4f43-adb8-93d2fa968ca2"
AES128 = "81376844-f976-481e-a84e-cc25d39b0b33"
SOURCE_BUCKET = "vod-sources"
SOURCE_KEY = "movies/lion/master.smil"


def mpv(server, region="us-east-1", access_key="test"):
    return server.client("mediapackage-vod", region=region, access_key=access_key)


def s3(server, region="us-east-1"):
    return server.client("s3", region=region, s3={"addressing_style": "path"})


def put_source(server, bucket=SOURCE_BUCKET, key=SOURCE_KEY):
    """Upload a small SMIL source and return its S3 object ARN."""
    c = s3(server)
    try:
        c.create_bucket(Bucket=bucket)
    except c.exceptions.BucketAlreadyOwnedByYou:
        pass
    c.put_object(Bucket=bucket, Key=key, Body=b'<smil><body><switch><video src="a.mp4"/></switch></body></smil>')
    return f"arn:aws:s3:::{bucket}/{key}"


def error_of(excinfo):
    """(code, HTTP status, message) of a botocore ClientError."""
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message", "")


def expect_error(fn, code, status, contains=None, **kwargs):
    with pytest.raises(Exception) as e:
        fn(**kwargs)
    got = error_of(e)
    assert got[0] == code and got[1] == status, got
    if contains:
        assert contains.lower() in got[2].lower(), got
    return got[2]


def speke(system_ids, v2=None):
    k = {"RoleArn": ROLE, "SystemIds": list(system_ids), "Url": SPEKE_URL}
    if v2:
        k["EncryptionContractConfiguration"] = {"PresetSpeke20Audio": v2[0], "PresetSpeke20Video": v2[1]}
    return k


def selection(lo=100000, hi=5000000, order="VIDEO_BITRATE_DESCENDING"):
    return {"MinVideoBitsPerSecond": lo, "MaxVideoBitsPerSecond": hi, "StreamOrder": order}


def hls_manifest(name, **over):
    m = {
        "AdMarkers": "SCTE35_ENHANCED",
        "IncludeIframeOnlyStream": True,
        "ManifestName": name,
        "ProgramDateTimeIntervalSeconds": 60,
        "RepeatExtXKey": True,
        "StreamSelection": selection(),
    }
    m.update(over)
    return m


# Every member of the seed's request syntax, with non-default values.
FULL_HLS = {
    "Encryption": {
        "ConstantInitializationVector": "0123456789abcdef0123456789abcdef",
        "EncryptionMethod": "SAMPLE_AES",
        "SpekeKeyProvider": speke([FAIRPLAY]),
    },
    "HlsManifests": [hls_manifest("main"), hls_manifest("alt", AdMarkers="PASSTHROUGH", StreamSelection=selection(order="ORIGINAL"))],
    "IncludeDvbSubtitles": True,
    "SegmentDurationSeconds": 4,
    "UseAudioRenditionGroup": True,
}
FULL_DASH = {
    "DashManifests": [{
        "ManifestLayout": "COMPACT",
        "ManifestName": "stream",
        "MinBufferTimeSeconds": 12,
        "Profile": "HBBTV_1_5",
        "ScteMarkersSource": "MANIFEST",
        "StreamSelection": selection(order="VIDEO_BITRATE_ASCENDING"),
    }],
    "Encryption": {"SpekeKeyProvider": speke([WIDEVINE, PLAYREADY], v2=("PRESET-AUDIO-2", "PRESET-VIDEO-5"))},
    "IncludeEncoderConfigurationInSegments": True,
    "IncludeIframeOnlyStream": True,
    "PeriodTriggers": ["ADS"],
    "SegmentDurationSeconds": 2,
    "SegmentTemplateFormat": "TIME_WITH_TIMELINE",
}
FULL_CMAF = {
    "Encryption": {
        "ConstantInitializationVector": "FEDCBA9876543210FEDCBA9876543210",
        "SpekeKeyProvider": speke([WIDEVINE, FAIRPLAY, PLAYREADY], v2=("SHARED", "SHARED")),
    },
    "HlsManifests": [hls_manifest("cmaf", AdMarkers="NONE")],
    "IncludeEncoderConfigurationInSegments": True,
    "SegmentDurationSeconds": 10,
}
FULL_MSS = {
    "Encryption": {"SpekeKeyProvider": speke([PLAYREADY])},
    "MssManifests": [{"ManifestName": "smooth", "StreamSelection": selection(lo=0, hi=8000000)}],
    "SegmentDurationSeconds": 3,
}
FULL = {"HlsPackage": FULL_HLS, "DashPackage": FULL_DASH, "CmafPackage": FULL_CMAF, "MssPackage": FULL_MSS}
