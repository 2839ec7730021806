"""IVS Real-Time participant tokens checked by reelay's verifier.

Tokens self-signed with the `cryptography` package under a key imported with ImportPublicKey must
verify; tokens signed by an unknown key, expired, tampered with, revoked (RevokeConnectionToken)
or of a disconnected participant (DisconnectParticipant) must not. The verifier is the one the
stage endpoints use, run through the `reelay-ivs-realtime-token` tool against the server's
database (built with the workspace: `cargo build --workspace --all-targets`).
"""
import base64
import json
import os
import subprocess
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from conftest import ROOT, reset


def tool():
    path = os.environ.get("REELAY_IVSRT_TOKEN_BIN") or os.path.join(ROOT, "target", "debug", "reelay-ivs-realtime-token")
    if not os.path.exists(path):
        raise RuntimeError(f"{path} not found: build it with `cargo build -p reelay-api-ivs-realtime`")
    return path


def verify(database_url, token):
    """Run reelay's verifier; returns (valid, parsed output)."""
    p = subprocess.run([tool(), "--database-url", database_url], input=token, capture_output=True, text=True, timeout=30)
    assert p.returncode in (0, 1), p.stderr
    return p.returncode == 0, json.loads(p.stdout)


def database_url(server):
    if "--database-url" in server.args:
        return server.args[server.args.index("--database-url") + 1]
    return f"sqlite://{server.data_dir}/reelay.db"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def self_sign(private_key, header, claims):
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    der = private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA384()))
    r, s = decode_dss_signature(der)
    return signing_input + "." + b64url(r.to_bytes(48, "big") + s.to_bytes(48, "big"))


def new_key():
    key = ec.generate_private_key(ec.SECP384R1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, pem.decode()


@pytest.fixture(scope="module")
def rt(api_server):
    # No client-side checks: reelay must refuse bad input itself.
    return api_server.client("ivs-realtime", parameter_validation=False)


@pytest.fixture(autouse=True)
def clean(api_server):
    reset(api_server)


@pytest.fixture
def setup(rt):
    key, pem = new_key()
    pk = rt.import_public_key(publicKeyMaterial=pem, name="app")["publicKey"]
    stage = rt.create_stage(name="self-signed")["stage"]
    return key, pk["arn"], stage


def claims_for(stage, jti="viewer-1", ttl=3600, **extra):
    now = int(time.time())
    c = {
        "exp": now + ttl, "iat": now, "jti": jti, "resource": stage["arn"],
        "topic": stage["arn"].rsplit("/", 1)[1], "events_url": stage["endpoints"]["events"],
        "whip_url": stage["endpoints"]["whip"],
        "capabilities": {"allow_publish": True, "allow_subscribe": False}, "version": "1.0",
    }
    c.update(extra)
    return c


def test_self_signed_token_under_an_imported_key_verifies(api_server, setup):
    key, kid, stage = setup
    token = self_sign(key, {"alg": "ES384", "typ": "JWT", "kid": kid},
                      claims_for(stage, user_id="dana", attributes={"seat": "2"}))
    ok, out = verify(database_url(api_server), token)
    assert ok, out
    c = out["claims"]
    assert c["participant_id"] == "viewer-1" and c["stage_arn"] == stage["arn"] and c["public_key_arn"] == kid
    assert c["user_id"] == "dana" and c["attributes"] == {"seat": "2"}
    assert c["allow_publish"] is True and c["allow_subscribe"] is False


def test_tokens_reelay_minted_verify(api_server, rt, setup):
    _, _, stage = setup
    tok = rt.create_participant_token(stageArn=stage["arn"], userId="eve", capabilities=["SUBSCRIBE"])["participantToken"]
    ok, out = verify(database_url(api_server), tok["token"])
    assert ok, out
    assert out["claims"]["participant_id"] == tok["participantId"]
    assert out["claims"]["public_key_arn"] is None
    assert out["claims"]["allow_subscribe"] is True and out["claims"]["allow_publish"] is False
    ok, out = verify(database_url(api_server), rt.create_stage(participantTokenConfigurations=[{}])["participantTokens"][0]["token"])
    assert ok, out


def test_unknown_key_expired_tampered_and_malformed_tokens_are_refused(api_server, rt, setup):
    key, kid, stage = setup
    url = database_url(api_server)
    header = {"alg": "ES384", "typ": "JWT", "kid": kid}
    # Signed by a key reelay never saw, under a known kid: bad signature.
    stranger, _ = new_key()
    ok, out = verify(url, self_sign(stranger, header, claims_for(stage)))
    assert not ok and "signature" in out["reason"]
    # A kid that names no imported key.
    unknown = dict(header, kid=kid[:-1] + ("x" if kid[-1] != "x" else "y"))
    ok, out = verify(url, self_sign(key, unknown, claims_for(stage)))
    assert not ok and "unknown" in out["reason"]
    # Expired.
    ok, out = verify(url, self_sign(key, header, claims_for(stage, ttl=-10)))
    assert not ok and "expired" in out["reason"]
    # Lives longer than 14 days.
    ok, out = verify(url, self_sign(key, header, claims_for(stage, ttl=15 * 86400)))
    assert not ok and "14 days" in out["reason"]
    # Tampered claims.
    good = self_sign(key, header, claims_for(stage))
    h, _, s = good.split(".")
    forged = h + "." + b64url(json.dumps(claims_for(stage, jti="intruder")).encode()) + "." + s
    ok, out = verify(url, forged)
    assert not ok and "signature" in out["reason"]
    # Unknown stage, wrong topic, bad jti, missing claims, not a JWT.
    ok, out = verify(url, self_sign(key, header, claims_for(stage, resource=stage["arn"] + "x")))
    assert not ok and "stage" in out["reason"]
    ok, out = verify(url, self_sign(key, header, claims_for(stage, topic="other")))
    assert not ok
    ok, out = verify(url, self_sign(key, header, claims_for(stage, jti="bad jti!")))
    assert not ok
    no_exp = claims_for(stage)
    del no_exp["exp"]
    ok, out = verify(url, self_sign(key, header, no_exp))
    assert not ok and "exp" in out["reason"]
    ok, out = verify(url, "not.a.token")
    assert not ok
    # A deleted key no longer admits anyone.
    rt.delete_public_key(arn=kid)
    ok, out = verify(url, good)
    assert not ok and "unknown" in out["reason"]


def test_revoked_tokens_and_disconnected_participants_are_refused(api_server, rt, setup):
    key, kid, stage = setup
    url = database_url(api_server)
    header = {"alg": "ES384", "typ": "JWT", "kid": kid}
    t1 = self_sign(key, header, claims_for(stage, jti="revoke-me"))
    assert verify(url, t1)[0]
    rt.revoke_connection_token(tokenId="revoke-me")
    rt.revoke_connection_token(tokenId="revoke-me")  # idempotent
    ok, out = verify(url, t1)
    assert not ok and "revoked" in out["reason"]
    minted = rt.create_participant_token(stageArn=stage["arn"])["participantToken"]
    assert verify(url, minted["token"])[0]
    rt.disconnect_participant(stageArn=stage["arn"], participantId=minted["participantId"], reason="spam")
    ok, out = verify(url, minted["token"])
    assert not ok and "disconnected" in out["reason"]
    # The same participant id on another stage is unaffected.
    other = rt.create_stage()["stage"]
    t2 = self_sign(key, header, claims_for(other, jti=minted["participantId"]))
    assert verify(url, t2)[0]


def test_revoke_and_disconnect_errors(rt):
    import botocore.exceptions
    with pytest.raises(botocore.exceptions.ClientError) as e:
        rt.revoke_connection_token(tokenId="bad id")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        rt.disconnect_participant(stageArn="arn:aws:ivs:us-east-1:000000000000:stage/none", participantId="p")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    stage = rt.create_stage()["stage"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        rt.disconnect_participant(stageArn=stage["arn"], participantId="p", reason="r" * 129)
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_disconnect_detaches_the_ingest_configuration_of_the_participant(rt):
    stage = rt.create_stage()["stage"]
    ic = rt.create_ingest_configuration(ingestProtocol="RTMPS", stageArn=stage["arn"])["ingestConfiguration"]
    other = rt.create_ingest_configuration(ingestProtocol="RTMPS", stageArn=stage["arn"])["ingestConfiguration"]
    rt.disconnect_participant(stageArn=stage["arn"], participantId=ic["participantId"])
    assert rt.get_ingest_configuration(arn=ic["arn"])["ingestConfiguration"]["stageArn"] == ""
    assert rt.get_ingest_configuration(arn=other["arn"])["ingestConfiguration"]["stageArn"] == stage["arn"]
