"""Bare Flask JSON endpoints: the yardsticks bench/api_status.py compares Herald's API with.

`app` is Flask alone; `limited` adds only Flask-Limiter on the same Redis Herald uses
(BENCH_LIMIT_URI), to show what the required per-token rate limit costs by itself.
"""

import os

from flask import Flask, jsonify
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

BODY = {
    "finished": True,
    "entries": 1000,
    "status": {"queued": 0, "completed": 1000, "errors": 0, "review": 0},
}

app = Flask(__name__)


@app.get("/status")
def status():
    return jsonify(BODY)


limited = Flask("limited")
limited.config["RATELIMIT_STORAGE_URI"] = os.environ.get("BENCH_LIMIT_URI", "memory://")
limiter = Limiter(get_remote_address, app=limited)


@limited.get("/status")
@limiter.limit("100000000 per minute")
def limited_status():
    return jsonify(BODY)
