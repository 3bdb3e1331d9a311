"""An API client that sends a real Personal Access Token."""

from __future__ import annotations

from typing import Any

import pytest

from app.extensions import db
from app.models import User, Workspace
from app.tokens import create_token


class Api:
    def __init__(self, client: Any, token: str):
        self.client, self.token = client, token

    def _headers(self, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(
            path, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def put(self, path: str, json: Any = None) -> Any:
        return self.client.put(path, json=json, headers=self._headers())

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers=self._headers())


def token_for(email: str, workspace: str, permissions: list[str], **kwargs: Any) -> str:
    user = db.session.scalars(db.select(User).filter_by(email=email)).one()
    ws = db.session.scalars(db.select(Workspace).filter_by(code=workspace)).one()
    kwargs.setdefault("name", "test")
    return create_token(user, ws, permissions=permissions, **kwargs)[1]


@pytest.fixture
def api(client, demo) -> Api:
    """Read and write on the demo workspace, as its admin."""
    return Api(client, token_for("demo@herald.local", "demo", ["jobs:read", "jobs:write"]))


@pytest.fixture
def reader(client, demo) -> Api:
    return Api(client, token_for("demo@herald.local", "demo", ["jobs:read"]))
