"""Unbound extensions; create_app() binds them."""

from __future__ import annotations

from flask import Flask, current_app
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis import Redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry
from rq import Queue

from app.database import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
# Only the API (per token, app.api) and failed logins (app.web.auth) are limited. When Redis
# is unreachable the counts go on in this process's memory instead of failing the request.
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    in_memory_fallback_enabled=True,
    swallow_errors=True,
)

# Delivery first: a generated entry is finished before the next one is rendered.
QUEUE_NAMES = ("deliver", "generate")


class RedisQueues:
    """Holds the Redis connection and the RQ queues of one app."""

    def init_app(self, app: Flask) -> None:
        # A few quick retries ride over a blip; a Redis that stays down fails the call within
        # about a second (and a host that drops packets within the connect timeout), so a web
        # request never hangs on it: the caller keeps the work in the database instead.
        app.extensions["herald_redis"] = Redis.from_url(
            app.config["REDIS_URL"],
            socket_connect_timeout=5,
            retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.5), retries=3),
        )

    @property
    def connection(self) -> Redis:
        return current_app.extensions["herald_redis"]

    def queue(self, name: str) -> Queue:
        return Queue(name, connection=self.connection)


queues = RedisQueues()
