"""IVS state survives a restart of reelay on the same data (SQLite file or PostgreSQL database)."""
import tempfile

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import Reelay, backend_args


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_state_survives_restart(backend):
    args = backend_args(backend)
    with tempfile.TemporaryDirectory(prefix="reelay-ivs-") as data_dir:
        with Reelay(*args, data_dir=data_dir) as first:
            ivs = first.client("ivs")
            first.client("s3").create_bucket(Bucket="persist-bucket")
            rc = ivs.create_recording_configuration(
                destinationConfiguration={"s3": {"bucketName": "persist-bucket"}})["recordingConfiguration"]
            pem = ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
            kp = ivs.import_playback_key_pair(publicKeyMaterial=pem, name="kp")["keyPair"]
            prp = ivs.create_playback_restriction_policy(allowedCountries=["US"])["playbackRestrictionPolicy"]
            created = ivs.create_channel(name="persist", tags={"a": "b"}, recordingConfigurationArn=rc["arn"],
                                         playbackRestrictionPolicyArn=prp["arn"], authorized=True)
            ch, key = created["channel"], created["streamKey"]
            ivs.tag_resource(resourceArn=ch["arn"], tags={"c": "d"})
            ch = ivs.get_channel(arn=ch["arn"])["channel"]
        with Reelay(*args, data_dir=data_dir) as second:
            ivs = second.client("ivs")
            got = ivs.get_channel(arn=ch["arn"])["channel"]
            # Endpoint URLs follow the new listener; everything else is as stored.
            for k in ("ingestEndpoint", "playbackUrl"):
                got.pop(k), ch.pop(k)
            # So does the SRT endpoint (port 0 binds a new port); the passphrase is stored.
            assert got["srt"]["endpoint"] == second.srt_url.split("://", 1)[1]
            assert got["srt"]["passphrase"] == ch["srt"]["passphrase"]
            got.pop("srt"), ch.pop("srt")
            assert got == ch
            assert got["tags"] == {"a": "b", "c": "d"}
            assert ivs.get_stream_key(arn=key["arn"])["streamKey"]["value"] == key["value"]
            assert ivs.get_playback_key_pair(arn=kp["arn"])["keyPair"] == kp
            assert ivs.get_recording_configuration(arn=rc["arn"])["recordingConfiguration"]["state"] == "ACTIVE"
            assert ivs.get_playback_restriction_policy(arn=prp["arn"])["playbackRestrictionPolicy"] == prp
            # The fingerprint marker survived too: re-import still conflicts.
            with pytest.raises(ivs.exceptions.ConflictException):
                ivs.import_playback_key_pair(publicKeyMaterial=pem)
            with pytest.raises(ivs.exceptions.ServiceQuotaExceededException):
                ivs.create_stream_key(channelArn=ch["arn"])
