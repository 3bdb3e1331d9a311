"""A bare Flask JSON endpoint: the yardstick bench/api_status.py compares Herald's API with."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/status")
def status():
    return jsonify(
        {
            "finished": True,
            "entries": 1000,
            "status": {"queued": 0, "completed": 1000, "errors": 0, "review": 0},
        }
    )
