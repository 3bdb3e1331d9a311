"""A real S3-compatible server on localhost: moto in server mode, in its own process.

Used by tests/storage (a session fixture) and bench/burst.py (``--storage-url s3://...``).
The port is chosen by the OS (bind port 0) and printed by the child before it serves.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

# The child: moto's threaded server on an OS-chosen port, which it prints, then serves until
# terminated.
_CHILD = (
    "import threading\n"
    "from moto.server import ThreadedMotoServer\n"
    "server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)\n"
    "server.start()\n"
    "print(server.get_host_and_port()[1], flush=True)\n"
    "threading.Event().wait()\n"
)
# moto accepts any credentials; boto3 needs some to sign with.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "herald-test", "AWS_SECRET_ACCESS_KEY": "herald-test-secret"}
REGION = "us-east-1"
BUCKET = "herald-test"


@contextmanager
def s3_server() -> Iterator[str]:
    """Start moto's S3 server in a child process; yield its endpoint URL; stop it after."""
    process = subprocess.Popen(
        [sys.executable, "-c", _CHILD],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = process.stdout.readline().strip() if process.stdout else ""
        if not port.isdigit():
            raise RuntimeError(f"the moto server did not start (exit code {process.poll()})")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout:
            process.stdout.close()


def client(endpoint_url: str) -> Any:
    """A boto3 client of the test's own on the server at `endpoint_url`, to look from outside."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def create_bucket(endpoint_url: str, bucket: str = BUCKET) -> None:
    """Create `bucket` on the server at `endpoint_url` (an existing one is kept)."""
    s3 = client(endpoint_url)
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)


def s3_settings(endpoint_url: str, prefix: str, **extra: Any) -> dict[str, Any]:
    """App settings (app/config.py names) storing artifacts in BUCKET under `prefix`."""
    return {
        "STORAGE_URL": f"s3://{BUCKET}/{prefix}",
        "S3_ENDPOINT_URL": endpoint_url,
        "S3_REGION": REGION,
        "S3_ACCESS_KEY_ID": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "S3_SECRET_ACCESS_KEY": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "S3_PRESIGN_SECONDS": 0,
        **extra,
    }


def keys_under(s3: Any, prefix: str, bucket: str = BUCKET) -> list[str]:
    """Every object key in `bucket` under `prefix`, sorted (as S3 lists them)."""
    found = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in found.get("Contents", [])]
