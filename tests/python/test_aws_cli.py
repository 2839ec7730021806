"""The AWS CLI against reelay: a sample of operations per service, plus S3 commands.

The CLI vendors its own botocore; these calls must behave like boto3's.
"""
import json
import os
import subprocess

import pytest

# (service, CLI arguments): each must end in a modelled answer (exit 0), a modelled error or
# the explicit NotImplementedException, never an unknown route or an internal error.
SAMPLE = [
    ("ivs", ["ivs", "list-channels"]),
    ("ivs", ["ivs", "get-channel", "--arn", "arn:aws:ivs:us-east-1:123456789012:channel/AbCd1234"]),
    ("ivs-realtime", ["ivs-realtime", "list-stages"]),
    ("ivs-realtime", ["ivs-realtime", "get-stage", "--arn", "arn:aws:ivs:us-east-1:123456789012:stage/AbCd1234"]),
    ("kinesisvideo", ["kinesisvideo", "list-streams"]),
    ("kinesisvideo", ["kinesisvideo", "describe-stream", "--stream-name", "nope"]),
    ("kinesis-video-archived-media", ["kinesis-video-archived-media", "list-fragments", "--stream-name", "nope"]),
    ("kinesis-video-signaling", ["kinesis-video-signaling", "get-ice-server-config", "--channel-arn",
                                 "arn:aws:kinesisvideo:us-east-1:123456789012:channel/c/1234567890123"]),
    ("mediapackage-vod", ["mediapackage-vod", "list-packaging-groups"]),
    ("mediapackage-vod", ["mediapackage-vod", "describe-asset", "--id", "nope"]),
]


def aws(server, *args, check=False):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
               AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
    return subprocess.run(["aws", "--endpoint-url", server.url, *args], capture_output=True, text=True, env=env,
                          timeout=120, check=check)


@pytest.mark.parametrize("service,args", SAMPLE, ids=[" ".join(a[:2]) for _, a in SAMPLE])
def test_cli_sample(server, service, args):
    p = aws(server, *args)
    if p.returncode == 0:
        json.loads(p.stdout or "{}")
        return
    assert "An error occurred (" in p.stderr, p.stderr
    code = p.stderr.split("An error occurred (", 1)[1].split(")", 1)[0]
    assert code not in ("UnknownOperationException", "InternalServerException", "InternalServerErrorException"), p.stderr


def test_cli_s3_round_trip(fresh_server, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    aws(fresh_server, "s3", "mb", "s3://cli-bucket", check=True)
    aws(fresh_server, "s3", "cp", str(src), "s3://cli-bucket/dir/src.bin", check=True)
    ls = aws(fresh_server, "s3", "ls", "s3://cli-bucket/dir/", check=True)
    assert "src.bin" in ls.stdout and str(len(data)) in ls.stdout
    aws(fresh_server, "s3", "cp", "s3://cli-bucket/dir/src.bin", str(tmp_path / "back.bin"), check=True)
    assert (tmp_path / "back.bin").read_bytes() == data
    aws(fresh_server, "s3", "rm", "s3://cli-bucket/dir/src.bin", check=True)
    assert "src.bin" not in aws(fresh_server, "s3", "ls", "s3://cli-bucket/dir/").stdout
