"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import os

from app import create_app
from app.logs import configure_logging

if os.environ.get("HERALD_LOG_FORMAT") == "json":
    configure_logging("web")  # workers and the clock configure their own
app = create_app()
