"""What every Herald process of a host may ask about the others, with no Herald code imported.

A root package beside `app` and `workers` (pyproject's import contracts): both import it, it
imports neither. The metrics exporter (workers/metrics.py) needs it most: importing `app` would
define Herald's counters in it and make it a writer in the directory it serves.
"""
