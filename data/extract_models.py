#!/usr/bin/env python3
"""Extract the pinned botocore service models reelay speaks, keeping facts only.

The botocore wheel pinned in `data/BOTOCORE_VERSION` ships each service model as
`botocore/data/<service>/<api-version>/service-2.json(.gz)` plus `paginators-1.json`.
This script copies the wire facts (operations, HTTP bindings, shapes, constraints,
errors, paginators) into `data/models/<service>.json` and drops every piece of
prose (`documentation`, `documentationUrl`, examples), which stays out of the repo.

Usage:
    python3 data/extract_models.py           # rewrite data/models/
    python3 data/extract_models.py --check   # exit 1 if data/models/ differs
"""
import gzip
import json
import os
import sys

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
PROSE_KEYS = {"documentation", "documentationUrl", "deprecatedMessage"}
HERE = os.path.dirname(os.path.abspath(__file__))


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in PROSE_KEYS}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def load_json(path):
    if os.path.exists(path):
        with open(path, "rb") as f:
            return json.load(f)
    with gzip.open(path + ".gz", "rb") as f:
        return json.load(f)


def extract(service):
    import botocore

    root = os.path.join(os.path.dirname(botocore.__file__), "data", service)
    version = sorted(os.listdir(root))[-1]
    folder = os.path.join(root, version)
    model = strip(load_json(os.path.join(folder, "service-2.json")))
    model.pop("examples", None)
    pag_path = os.path.join(folder, "paginators-1.json")
    paginators = load_json(pag_path).get("pagination", {}) if os.path.exists(pag_path) else {}
    return {
        "botocoreService": service,
        "metadata": model["metadata"],
        "operations": model["operations"],
        "shapes": model["shapes"],
        "paginators": paginators,
    }


def render(service):
    return json.dumps(extract(service), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main():
    import botocore

    with open(os.path.join(HERE, "BOTOCORE_VERSION")) as f:
        pinned = f.read().strip()
    if botocore.__version__ != pinned:
        sys.exit(f"botocore {botocore.__version__} is installed; the models are pinned to {pinned}")
    check = "--check" in sys.argv
    stale = []
    for service in SERVICES:
        path = os.path.join(HERE, "models", service + ".json")
        text = render(service)
        if check:
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    stale.append(service)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if stale:
        sys.exit("data/models differ from botocore " + pinned + ": " + ", ".join(stale))


if __name__ == "__main__":
    main()
