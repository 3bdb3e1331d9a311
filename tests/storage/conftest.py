"""Fixtures of the storage tests: a real S3-compatible server (moto in server mode, in its own
process) and the app switched to a bucket of it, or left on the local disk."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.s3server import client, create_bucket, s3_server, s3_settings


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The moto server's URL, with the test bucket created; stopped after the session."""
    with s3_server() as url:
        create_bucket(url)
        yield url


@pytest.fixture
def s3(app: Flask, s3_endpoint: str) -> Iterator[str]:
    """The app's artifacts in the test bucket under a prefix of this test's own; yields the
    prefix (ending in "/"). The previous settings come back afterwards."""
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    settings = s3_settings(s3_endpoint, prefix)
    saved = {key: app.config.get(key) for key in settings}
    app.config.update(settings)
    yield prefix + "/"
    app.config.update(saved)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, app: Flask) -> str:
    """Each backend in turn: the local disk (STORAGE_DIR), then an S3 bucket."""
    if request.param == "s3":
        request.getfixturevalue("s3")
    return request.param


@pytest.fixture
def bucket(s3_endpoint: str) -> Any:
    """A boto3 client of the test's own, to look at the bucket from outside Herald."""
    return client(s3_endpoint)
