"""Push a model to the Sentinel hub with plain `requests`, as a training pipeline would.

    SENTINEL_URL=http://localhost:8070 SENTINEL_TOKEN=... python3 push_model.py model.onnx yolov8n 1.0.0
"""
import os
import sys

import requests

API = os.environ.get("SENTINEL_URL", "http://localhost:8070") + "/api/v1"
TOKEN = os.environ["SENTINEL_TOKEN"]
path, name, version = sys.argv[1], sys.argv[2], sys.argv[3]

headers = {"Authorization": f"Bearer {TOKEN}"}
with open(path, "rb") as model_file:
    response = requests.post(
        f"{API}/models",
        headers=headers,
        files={"file": (os.path.basename(path), model_file, "application/octet-stream")},
        data={
            "name": name,
            "version": version,
            "model_type": "object-detection",
            "framework": "onnx",
            "stage": "staging",
        },
    )
response.raise_for_status()
model = response.json()
print(model["id"])

listing = requests.get(f"{API}/models", headers=headers, params={"name": name})
listing.raise_for_status()
assert any(item["id"] == model["id"] for item in listing.json()["items"])
