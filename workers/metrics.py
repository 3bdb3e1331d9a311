"""A host's Prometheus exporter: the counts every Herald process on this host wrote.

prometheus-client's multiprocess mode keeps each process's counts in files under
PROMETHEUS_MULTIPROC_DIR, a directory on the host's own disk, so a web host's /metrics can only
add up the processes of *its* host. A worker-only host runs this one small process
(`python -m workers.metrics`, the Procfile's `metrics` role) and Prometheus scrapes every host.

One exporter per host over the shared directory is prometheus-client's own documented pattern
for multiprocess mode (a MultiProcessCollector behind `make_wsgi_app`). Serving from each RQ
worker instead would need a port per process, and each would show only itself (or, reading the
directory, all of them again: counted N times); the Pushgateway is for batch jobs, and a sum
pushed by many processes is overwritten, not added.

It reads no database and no Redis (queue depth and clock lag are in a web host's /metrics) and
imports nothing of `app` (that would define the counters here, in a process that counts
nothing). It answers only `Authorization: Bearer $HERALD_METRICS_TOKEN`, like /metrics.
"""

from __future__ import annotations

import argparse
import hmac
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app, multiprocess

from herald_procs.liveness import alive, forget_dead_processes, pids_in

DEFAULT_PORT = 9464
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def clear_if_unused(directory: Path) -> bool:
    """Empty `directory` of multiprocess files when every process that wrote them has exited
    (the host's processes are all starting afresh), and say whether it did.

    Counts then begin at zero, as a restarted single process's would; Prometheus reads a
    counter that went down as a reset. While any writer is alive nothing is removed: its
    counts would vanish mid-life, and a sum that drops while others run is read as a reset
    too, counting their whole totals again. prometheus-client's docs ask for the directory
    to be wiped between runs, because a new process given a dead one's pid reuses its file."""
    files = list(directory.glob("*.db"))
    if any(alive(pid) for pid in pids_in(directory)):
        return False
    for path in files:
        path.unlink(missing_ok=True)
    return True


def exporter(directory: Path, token: str) -> WsgiApp:
    """A WSGI app answering the Prometheus text format of every process's counts in
    `directory` to a request bearing `token`, else 401 (with `WWW-Authenticate: Bearer`)."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    metrics = make_wsgi_app(registry)
    expected = f"Bearer {token}".encode()

    def app(request: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        given = request.get("HTTP_AUTHORIZATION", "").encode()
        if not hmac.compare_digest(given, expected):
            start_response(
                "401 Unauthorized",
                [("Content-Type", "text/plain; charset=utf-8"), ("WWW-Authenticate", "Bearer")],
            )
            return [b"send Authorization: Bearer <HERALD_METRICS_TOKEN>\n"]
        forget_dead_processes(directory)
        return metrics(request, start_response)

    return app


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow scraper never holds the process at exit


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the base's name)
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bind",
        default=os.environ.get("HERALD_METRICS_BIND", "0.0.0.0"),
        help="address to listen on (HERALD_METRICS_BIND, default 0.0.0.0)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("HERALD_METRICS_PORT", DEFAULT_PORT)),
        help=f"port (HERALD_METRICS_PORT, default {DEFAULT_PORT}; 0 picks a free one)",
    )
    args = parser.parse_args(argv)
    token = os.environ.get("HERALD_METRICS_TOKEN") or ""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or ""
    if not token:
        sys.exit("workers.metrics: set HERALD_METRICS_TOKEN (the bearer token scrapers send)")
    if not directory or not Path(directory).is_dir():
        sys.exit("workers.metrics: set PROMETHEUS_MULTIPROC_DIR to this host's metrics directory")
    if clear_if_unused(Path(directory)):
        print(f"workers.metrics: no process writes to {directory}; emptied it", flush=True)
    server = make_server(
        args.bind, args.port, exporter(Path(directory), token), _Server, _QuietHandler
    )
    host, port = server.server_address[:2]
    print(f"workers.metrics: serving http://{host}:{port}/metrics", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
