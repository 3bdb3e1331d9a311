"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import os
import sys

from app import create_app
from app.config import SettingError
from app.logs import configure_logging

# gunicorn's Arbiter.APP_LOAD_ERROR: a web worker exiting with it stops the master ("App failed
# to load") instead of booting worker after worker into the same error.
APP_LOAD_ERROR = 4

if os.environ.get("HERALD_LOG_FORMAT") == "json":
    configure_logging("web")  # workers and the clock configure their own
try:
    app = create_app()
except SettingError as exc:
    # An operator's typo: one line naming the setting, as the worker and clock print.
    print(f"herald web: {exc}", file=sys.stderr, flush=True)
    sys.exit(APP_LOAD_ERROR)
