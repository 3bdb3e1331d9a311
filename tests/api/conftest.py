"""An API client that sends a real Personal Access Token."""

from __future__ import annotations

import pytest

from tests.helpers import Api, token_for


@pytest.fixture
def api(client, demo) -> Api:
    """Read and write on the demo workspace, as its admin."""
    return Api(client, token_for("demo@herald.local", "demo", ["jobs:read", "jobs:write"]))


@pytest.fixture
def reader(client, demo) -> Api:
    return Api(client, token_for("demo@herald.local", "demo", ["jobs:read"]))
