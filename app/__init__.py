"""Herald: scheduled report generation and delivery."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter, Map

from app import http_headers, storage
from app.access import MAX_ROW_ID
from app.api import register_api
from app.commands.register import register_commands
from app.config import settings_from_env
from app.extensions import csrf, db, htmx, limiter, login_manager, migrate, queues
from app.handlers import register_error_handlers
from app.web import register_blueprints


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment (or `test_config`), extensions, blueprints."""
    instance = os.environ.get("HERALD_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(settings_from_env(Path(app.instance_path)))
    if test_config:
        app.config.update(test_config)
    storage.init_app(app)
    # `<int:...>` in every route is a row id: a number no id can have is a 404, not a query.
    app.url_map.converters["int"] = RowIdConverter

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    queues.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", _limits_uri(app.config["REDIS_URL"]))
    # Redis down is an outage of the queue, not of Herald: the limiter counts in this
    # process's memory until Redis answers again, and any other storage error lets the
    # request through rather than failing it.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)
    http_headers.init_app(app)
    with app.app_context():
        _tune_sqlite(db.engine)

    register_blueprints(app)
    register_error_handlers(app)
    register_api(app)
    register_commands(app)
    return app


class RowIdConverter(IntegerConverter):
    """Whole numbers that can be a row id (see MAX_ROW_ID)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def _limits_uri(redis_url: str) -> str:
    """The rate limiter's storage: the same Redis (its library spells unix sockets redis+unix)."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def _tune_sqlite(engine: Engine) -> None:
    """WAL and a busy timeout let the web process and several workers share one SQLite file."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
