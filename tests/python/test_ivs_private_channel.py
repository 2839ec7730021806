"""Private channels, on their own: a P-384 key pair generated with `cryptography` is imported as
a playback key pair, the fingerprint matches the documented computation (the first 16 bytes of
the SHA-256 of the DER SubjectPublicKeyInfo, as lowercase colon-separated hex; see docs/ivs.md),
the same key cannot be imported twice, and other key material is refused.
"""
import hashlib

import botocore.exceptions
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def fingerprint_of(public_key):
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return ":".join(f"{b:02x}" for b in hashlib.sha256(der).digest()[:16])


def pem_of(public_key):
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def code_of(call, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        call(**kw)
    return ei.value.response["Error"]["Code"], ei.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_private_channel_key_pair(fresh_server):
    ivs = fresh_server.client("ivs")
    private_key = ec.generate_private_key(ec.SECP384R1())
    public_key = private_key.public_key()
    kp = ivs.import_playback_key_pair(publicKeyMaterial=pem_of(public_key), name="viewer-tokens")["keyPair"]
    assert kp["name"] == "viewer-tokens"
    assert kp["fingerprint"] == fingerprint_of(public_key)
    assert "privateKey" not in kp and "publicKeyMaterial" not in kp
    assert ivs.get_playback_key_pair(arn=kp["arn"])["keyPair"]["fingerprint"] == kp["fingerprint"]

    # The same key again, even wrapped differently, conflicts.
    assert code_of(ivs.import_playback_key_pair, publicKeyMaterial=pem_of(public_key)) == ("ConflictException", 409)
    assert code_of(ivs.import_playback_key_pair,
                   publicKeyMaterial=pem_of(public_key).replace("\n", "\r\n")) == ("ConflictException", 409)

    # Only ECDSA P-384 public keys are accepted.
    others = [
        pem_of(ec.generate_private_key(ec.SECP256R1()).public_key()),
        pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()),
        private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode(),
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "not a key",
        "",
    ]
    for material in others:
        assert code_of(ivs.import_playback_key_pair, publicKeyMaterial=material) == ("ValidationException", 400)

    # A private channel uses it: authorized channels report it, and revocation is accepted.
    ch = ivs.create_channel(name="private", authorized=True)["channel"]
    assert ch["authorized"] is True
    ivs.start_viewer_session_revocation(channelArn=ch["arn"], viewerId="alice")
    assert ivs.delete_playback_key_pair(arn=kp["arn"])["ResponseMetadata"]["HTTPStatusCode"] == 200
    again = ivs.import_playback_key_pair(publicKeyMaterial=pem_of(public_key))["keyPair"]
    assert again["fingerprint"] == kp["fingerprint"]
