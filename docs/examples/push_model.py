"""Push a model to the Sentinel hub with plain `requests`, as a training pipeline would.

    SENTINEL_URL=http://localhost:8070 SENTINEL_TOKEN=stl_... \\
        python3 push_model.py model.onnx yolov8n 1.0.0 [--framework onnx] [--model-type yolo] \\
        [--stage staging] [--metadata '{"map": 0.61}'] [--tags a,b] [--parent-id ID]

The file is streamed: it is read in 1 MiB chunks while it is sent, never held in memory
(`requests.post(files=...)` would build the whole multipart body in memory first). The text fields
go before the file, so the hub refuses a bad name or version before the upload.

Prints the new model's id. On failure prints one line on stderr with the hub's own message, e.g.
`push_model.py: the hub refused the push: HTTP 409 CONFLICT: ...`, and exits with 1 (the hub
refused), 2 (bad arguments or no such file), 3 (hub unreachable) or 4 (token refused), as the
`sentinel` CLI does.
"""
import argparse
import os
import sys
import uuid

import requests

CHUNK_BYTES = 1024 * 1024


class MultipartUpload:
    """A multipart/form-data body: the text fields, then the file, read chunk by chunk as it is sent.

    `requests` sends an object with `__iter__` as it iterates it, and `__len__` gives it the
    Content-Length, so the body is neither held in memory nor sent chunk-encoded.
    """

    def __init__(self, fields, path):
        self.boundary = uuid.uuid4().hex
        self.path = path
        filename = os.path.basename(path).replace('"', "%22").replace("\r", "").replace("\n", "")
        head = b"".join(self._field(name, value) for name, value in fields.items())
        head += (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode("utf-8")
        self.head = head
        self.tail = f"\r\n--{self.boundary}--\r\n".encode("ascii")
        self.length = len(self.head) + os.path.getsize(path) + len(self.tail)

    def _field(self, name, value):
        return (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n"
        ).encode("utf-8")

    @property
    def content_type(self):
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self):
        return self.length

    def __iter__(self):
        yield self.head
        with open(self.path, "rb") as model_file:
            while True:
                chunk = model_file.read(CHUNK_BYTES)
                if not chunk:
                    break
                yield chunk
        yield self.tail


def fail(code, message):
    print(f"push_model.py: {message}", file=sys.stderr)
    sys.exit(code)


def hub_message(response):
    """`HTTP 409 CONFLICT: <message>` from the hub's error body `{statusCode, error, message}`."""
    try:
        body = response.json()
        return f"HTTP {response.status_code} {body.get('error', response.reason)}: {body['message']}"
    except (ValueError, KeyError, AttributeError):
        text = response.text.strip().splitlines()
        return f"HTTP {response.status_code} {response.reason}" + (f": {text[0]}" if text else "")


def main():
    parser = argparse.ArgumentParser(description="Push a model file to the Sentinel hub.")
    parser.add_argument("path", help="the model file")
    parser.add_argument("name")
    parser.add_argument("version", help="semver (1.4.0), a nightly date (20261206) or CalVer")
    parser.add_argument("--framework", default="onnx", help="onnx, pytorch, tensorflow, tflite, ...")
    parser.add_argument("--model-type", default="object-detection")
    parser.add_argument("--stage", default="staging", choices=["staging", "production", "archived"])
    parser.add_argument("--metadata", help="a JSON object")
    parser.add_argument("--tags", help="comma-separated")
    parser.add_argument("--parent-id", help="id of the model this one derives from")
    args = parser.parse_args()

    token = os.environ.get("SENTINEL_TOKEN")
    if not token:
        fail(2, "set SENTINEL_TOKEN to an operator token")
    if not os.path.isfile(args.path):
        fail(2, f"no such file: {args.path}")
    api = os.environ.get("SENTINEL_URL", "http://localhost:8070").rstrip("/") + "/api/v1"

    fields = {
        "name": args.name,
        "version": args.version,
        "model_type": args.model_type,
        "framework": args.framework,
        "stage": args.stage,
    }
    for key, value in (("metadata", args.metadata), ("tags", args.tags), ("parent_id", args.parent_id)):
        if value is not None:
            fields[key] = value
    body = MultipartUpload(fields, args.path)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": body.content_type}

    try:
        response = requests.post(f"{api}/models", headers=headers, data=body, timeout=(10, 600))
    except requests.RequestException as error:
        fail(3, f"cannot reach the hub at {api}: {error}")
    if response.status_code in (401, 403):
        fail(4, f"the hub refused the token: {hub_message(response)}")
    if not response.ok:
        fail(1, f"the hub refused the push: {hub_message(response)}")
    print(response.json()["id"])


if __name__ == "__main__":
    main()
