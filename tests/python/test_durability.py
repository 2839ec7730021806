"""A write is acknowledged only when committed: SIGKILL the server in the middle of a stream
of writes, restart it on the same data dir, and find every acknowledged resource intact and
nothing half-written (SQLite, the embedded default)."""
import signal
import threading
import time

import botocore.exceptions

from conftest import Reelay


def test_sigkill_during_writes_loses_nothing_acknowledged(tmp_path):
    data_dir = str(tmp_path / "data")
    acked = []
    lock = threading.Lock()
    stop = threading.Event()
    server = Reelay(data_dir=data_dir).start()

    def writer(n):
        client = server.client("ivs")
        i = 0
        while not stop.is_set():
            name = f"w{n}-{i}"
            i += 1
            try:
                resp = client.create_channel(name=name, tags={"writer": str(n)})
            except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError,
                    botocore.exceptions.ReadTimeoutError, ConnectionError):
                return
            except botocore.exceptions.ClientError:
                return
            with lock:
                acked.append((resp["channel"]["arn"], name, resp["streamKey"]["arn"]))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 200 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.stop(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) >= 50, "too few writes before the kill to say anything"

    with Reelay(data_dir=data_dir) as again:
        ivs = again.client("ivs")
        listed = {}
        for page in ivs.get_paginator("list_channels").paginate():
            for c in page["channels"]:
                listed[c["arn"]] = c
        for arn, name, key_arn in acked:
            assert arn in listed, f"acknowledged channel {name} lost"
            got = ivs.get_channel(arn=arn)["channel"]
            assert got["name"] == name
            assert ivs.get_stream_key(arn=key_arn)["streamKey"]["channelArn"] == arn
            assert ivs.list_tags_for_resource(resourceArn=arn)["tags"] == {"writer": name.split("-")[0][1:]}
        # Whatever else was written before the kill is whole: a channel always has its key.
        for arn, c in listed.items():
            keys = ivs.list_stream_keys(channelArn=arn)["streamKeys"]
            assert len(keys) == 1, f"channel {c['name']} was half-written: {len(keys)} stream keys"
    print(f"{len(acked)} acknowledged writes, {len(listed)} channels after restart")
