"""Start Herald with embedded defaults: web, workers, clock, a private Redis and a mail catcher.

Every part can be switched to a real service with an environment variable:
PORT, DATABASE_URL, REDIS_URL, SMTP_HOST/SMTP_PORT/SMTP_USER/SMTP_PASSWORD/SMTP_TLS/SMTP_FROM.
Every process shares PROMETHEUS_MULTIPROC_DIR (default instance/metrics) for /metrics.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
INSTANCE = Path(os.environ.get("HERALD_INSTANCE_PATH", ROOT / "instance")).resolve()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _embedded_services(env: dict[str, str]) -> list:
    """Start what the environment does not point elsewhere; return handles to stop later."""
    from app.embedded_redis import SupervisedRedis
    from app.mailcatcher import start_catcher

    handles: list = []
    if not env.get("REDIS_URL"):
        redis = SupervisedRedis(INSTANCE / "redis")
        env["REDIS_URL"] = redis.url
        handles.append(redis)
        print(f"  redis        private server at {redis.url}")
    if not env.get("SMTP_HOST"):
        wanted = int(env.get("HERALD_CATCHER_PORT", "8025"))
        port = wanted if _port_free(wanted) else _free_port()
        outbox = INSTANCE / "outbox"
        handles.append(start_catcher(outbox, port=port))
        env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), HERALD_OUTBOX_DIR=str(outbox))
        print(f"  mail         catcher on 127.0.0.1:{port}, messages in {outbox}")
    return handles


def _metrics_dir(env: dict[str, str]) -> None:
    """prometheus-client's multiprocess mode: web and worker processes each write their counts
    under one directory, and /metrics adds them up. Emptied at start: counts begin at zero
    with each start, as a single process's would (Prometheus copes with counter resets)."""
    directory = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or INSTANCE / "metrics")
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    if env.get("HERALD_METRICS_TOKEN"):
        print(f"  metrics      /metrics (bearer HERALD_METRICS_TOKEN), counts in {directory}")


def _prepare_database(env: dict[str, str]) -> None:
    """Migrate and seed the demo workspace (idempotent) in a child, with the final settings."""
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(
        [*flask, "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    subprocess.run(
        [*flask, "demo", "seed"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )


def _processes(env: dict[str, str], port: int) -> dict[str, list[str]]:
    web = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(ROOT / "gunicorn.conf.py"),  # child_exit drops a dead worker's live gauges
        "wsgi:app",
        "--bind",
        f"{env.get('HOST', '127.0.0.1')}:{port}",
        "--workers",
        "3",
        "--access-logfile",
        "-",
        "--log-level",
        "warning",
    ]
    commands = {"web": web, "clock": [sys.executable, "-m", "workers.clock"]}
    for n in range(int(env.get("HERALD_WORKERS", "2"))):
        commands[f"worker-{n + 1}"] = [sys.executable, "-m", "workers.worker"]
    return commands


def _keep_redis_up(handles: list) -> None:
    """Start the private Redis again if it died; the other processes wait and reconnect."""
    from app.embedded_redis import SupervisedRedis

    for handle in handles:
        if not isinstance(handle, SupervisedRedis):
            continue
        try:
            if handle.check():
                print("  redis        exited; started it again", flush=True)
        except RuntimeError as exc:
            print(f"  redis        could not start again ({exc}); trying again", flush=True)


def main() -> None:
    env = dict(os.environ)
    env["HERALD_INSTANCE_PATH"] = str(INSTANCE)
    port = int(env.get("PORT", "8000"))
    if not _port_free(port):
        sys.exit(f"Port {port} is already in use (another Herald?). Set PORT to use another one.")
    print("Starting Herald")
    handles = _embedded_services(env)
    _metrics_dir(env)
    _prepare_database(env)
    commands = _processes(env, port)
    children = {name: subprocess.Popen(cmd, env=env, cwd=ROOT) for name, cmd in commands.items()}
    host = env.get("HOST", "127.0.0.1")
    print(
        f"\n  Herald is running at http://{'localhost' if host == '127.0.0.1' else host}:{port}/\n"
        "  Log in as demo@herald.local / herald-demo\n"
        "  (the demo workspace's job 'monthly-statements' is ready to Run now)\n"
        "  Press Ctrl+C to stop.\n",
        flush=True,
    )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    restarts: dict[str, list[float]] = {name: [] for name in children}
    try:
        while not stopping:
            _keep_redis_up(handles)
            for name, child in list(children.items()):
                if child.poll() is None or stopping:
                    continue
                recent = [t for t in restarts[name] if time.monotonic() - t < 60]
                if len(recent) >= 3:
                    print(f"  {name} keeps exiting; stopping Herald", flush=True)
                    stopping = True
                    break
                print(f"  {name} exited with {child.returncode}; restarting", flush=True)
                restarts[name] = [*recent, time.monotonic()]
                children[name] = subprocess.Popen(commands[name], env=env, cwd=ROOT)
            time.sleep(0.5)
    finally:
        for child in children.values():
            child.terminate()
        for child in children.values():
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        for handle in handles:
            if isinstance(handle, subprocess.Popen):
                handle.terminate()
                handle.wait(10)
            else:
                handle.stop()
        print("Herald stopped.")


if __name__ == "__main__":
    main()
