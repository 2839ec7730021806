"""IVS live across a restart: a stream key created before the restart still publishes after it
(the ingest lookup is persisted with the key), on SQLite and on PostgreSQL."""
import subprocess
import tempfile

import pytest

from conftest import Reelay, backend_args
from test_ivs_live import FFMPEG_DEADLINE, ingest_url, publish, wait_for


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_stream_key_publishes_after_restart(backend):
    args = backend_args(backend)
    with tempfile.TemporaryDirectory(prefix="reelay-ivs-live-") as data_dir:
        with Reelay(*args, data_dir=data_dir) as first:
            created = first.client("ivs").create_channel(name="persist-live", latencyMode="NORMAL")
            arn, key = created["channel"]["arn"], created["streamKey"]["value"]
        with Reelay(*args, data_dir=data_dir) as second:
            ivs = second.client("ivs")
            ch = ivs.get_channel(arn=arn)["channel"]
            proc = publish(ingest_url(ch, key), 3)
            assert proc.wait(timeout=FFMPEG_DEADLINE) == 0, proc.stderr.read()
            sessions = wait_for(lambda: [s for s in ivs.list_stream_sessions(channelArn=arn)["streamSessions"]
                                         if "endTime" in s], what="an ended session")
            assert len(sessions) == 1
            play = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", ch["playbackUrl"], "-f", "null", "-"],
                                  capture_output=True, text=True, timeout=FFMPEG_DEADLINE)
            assert play.returncode == 0 and play.stderr == "", play.stderr
