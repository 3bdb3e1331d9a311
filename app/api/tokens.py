"""API handler for the caller's own Personal Access Tokens of this workspace (never secrets)."""

from __future__ import annotations

from typing import Any

from app.api.blueprint import bp
from app.api.common import caller, list_args, listed
from app.api.serializers import token_out
from app.tokens import TOKEN_SORTS, tokens_window


@bp.get("/ws/<ws>/tokens")
def list_tokens(ws: str) -> Any:
    found = caller(ws, "jobs:read")
    tokens = tokens_window(found.user_id, found.workspace_id, list_args(TOKEN_SORTS))
    return listed(tokens, [token_out(token) for token in tokens.items])
