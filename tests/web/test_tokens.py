"""The Personal Access Tokens screen: shown once, listed without the secret, revocable."""

from __future__ import annotations

import re

from tests.helpers import Api


def test_create_use_and_revoke_a_token(auth, client, demo):
    auth.login()
    created = auth.post(
        "/tokens",
        {"name": "ci", "workspace": "demo", "permissions": ["jobs:read"], "expires_days": "30"},
        page="/tokens",
    )
    token = re.search(r'<code id="new-token">(hrld_[^<]+)</code>', created.text)[1]
    api = Api(client, token)
    assert api.get("/api/v1/ws/demo/jobs").status_code == 200
    listing = client.get("/tokens").text
    assert token not in listing and token[:11] in listing
    token_id = re.search(r'action="/tokens/(\d+)/revoke"', listing)[1]
    auth.post(f"/tokens/{token_id}/revoke", page="/tokens")
    assert api.get("/api/v1/ws/demo/jobs").status_code == 401
    assert "revoked" in client.get("/tokens").text


def test_a_viewer_cannot_make_a_write_token(auth, client, demo):
    auth.login("viewer@herald.local")
    response = auth.post(
        "/tokens", {"name": "x", "workspace": "demo", "permissions": ["jobs:write"]}, page="/tokens"
    )
    assert response.status_code == 422
    assert "does not allow jobs:write" in response.text
    assert "new-token" not in response.text
