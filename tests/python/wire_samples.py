"""Minimal well-formed inputs for every operation, built from the botocore models themselves.

`minimal_params(model, op)` fills every required member (recursively) with the smallest value
that satisfies the model's constraints (enum, length, range, count, pattern), so a call reaches
the handler rather than failing validation.
"""
import datetime
import re

import botocore.session

SERVICES = [
    "mediapackage-vod",
    "ivs",
    "ivs-realtime",
    "kinesisvideo",
    "kinesis-video-media",
    "kinesis-video-archived-media",
    "kinesis-video-signaling",
    "kinesis-video-webrtc-storage",
]
ACCOUNT = "123456789012"
REGION = "us-east-1"
PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEtJ4aM7mZ3aMPSFKK4VuN3nKq1TLzgG1Z\n"
    "-----END PUBLIC KEY-----"
)

_session = botocore.session.get_session()


def service_model(name):
    return _session.get_service_model(name)


def _pattern_sample(pattern, service):
    if "arn:aws:ivs:" in pattern:
        m = re.search(r":([a-z-]+)/\[a-zA-Z0-9-\]", pattern)
        rtype = m.group(1) if m and m.group(1) != "a-z-" else None
        if rtype is None or "[a-z-]/" in pattern:
            rtype = "stage" if service == "ivs-realtime" else "channel"
        return f"arn:aws:ivs:{REGION}:{ACCOUNT}:{rtype}/AbCd1234"
    if "kinesisvideo:" in pattern:
        return f"arn:aws:kinesisvideo:{REGION}:{ACCOUNT}:stream/sample-stream/1234567890123"
    if ":iot:" in pattern:
        return f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/thing1"
    if "secretsmanager" in pattern:
        return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:s1"
    if "mediatailor" in pattern:
        return f"arn:aws:mediatailor:{REGION}:{ACCOUNT}:playbackConfiguration/pc1"
    if "BEGIN PUBLIC KEY" in pattern:
        return PEM
    if pattern.startswith("rt_"):
        return f"rt_{ACCOUNT}_{REGION}_AbCd_x"
    if pattern.startswith("st-"):
        return "st-AbCd1234"
    if "-[a-z]+-[0-9]" in pattern:
        return REGION
    if "{11,100}" in pattern:
        return "a" * 11
    if ":(//)?" in pattern:
        return "https://example.com/path"
    if "/[\\w" in pattern:
        return "video/h264"
    if pattern in ("^[0-9]+$",):
        return "1"
    if "={0,2}" in pattern:
        return "AAAA"
    return None


def _value(shape, service, depth=0):
    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        out = {}
        for name in shape.required_members:
            out[name] = _value(shape.members[name], service, depth + 1)
        return out
    if t == "list":
        # A required list travels in a query string or header only when it has an element.
        n = max(meta.get("min", 0), 1)
        return [_value(shape.member, service, depth + 1) for _ in range(n)]
    if t == "map":
        n = meta.get("min", 0)
        return {f"k{i}": _value(shape.value, service, depth + 1) for i in range(n)}
    if t == "string":
        if shape.enum:
            return shape.enum[0]
        lo = meta.get("min", 0)
        hi = meta.get("max", 1 << 30)
        sample = _pattern_sample(meta["pattern"], service) if "pattern" in meta else None
        if sample is None:
            sample = "a" * max(lo, 1)
        if len(sample) < lo:
            sample = sample + "a" * (lo - len(sample))
        return sample[:hi]
    if t in ("integer", "long"):
        lo = meta.get("min", 1)
        return max(lo, 1) if meta.get("max", 1 << 40) >= 1 else lo
    if t in ("float", "double"):
        return float(meta.get("min", 1))
    if t == "boolean":
        return False
    if t == "timestamp":
        return datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    if t == "blob":
        return b"x"
    raise ValueError(f"unsupported shape type {t}")


def minimal_params(model, op_name):
    op = model.operation_model(op_name)
    if op.input_shape is None:
        return {}
    return _value(op.input_shape, model.service_name)


def all_operations():
    for svc in SERVICES:
        model = service_model(svc)
        for op in model.operation_names:
            yield svc, op
