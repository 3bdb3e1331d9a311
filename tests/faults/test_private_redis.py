"""`./dev run`'s private Redis: it waits while Redis loads, and is started again if it dies."""

from __future__ import annotations

import logging
import secrets
import signal
import time
from pathlib import Path

from redis import Redis

from app.embedded_redis import SupervisedRedis, start_redis

KEYS = 200


def test_start_waits_while_redis_loads_a_large_append_only_file(tmp_path: Path, caplog):
    process, url = start_redis(tmp_path)  # persist: an append-only file
    client = Redis.from_url(url)
    # Values that do not compress, so Redis answers clients after every key or two.
    client.mset({f"key-{n}": secrets.token_hex(1024) for n in range(KEYS)})
    # Rewritten, the file starts with an RDB image, which Redis loads key by key while still
    # answering clients between chunks (LOADING) as it does with any large file.
    client.bgrewriteaof()
    while (
        client.info("persistence")["aof_rewrite_in_progress"]
        or client.info("persistence")["aof_rewrite_scheduled"]
    ):
        time.sleep(0.01)
    process.terminate()  # SIGTERM: Redis writes the file out before exiting
    process.wait(10)

    # Loading is slowed down per key (a Redis debugging option) and Redis answers clients
    # after every KB loaded, so they see LOADING (BusyLoadingError) as with a large file.
    slow_load = ["--key-load-delay", "5000", "--loading-process-events-interval-bytes", "1024"]
    with caplog.at_level(logging.WARNING, logger="app.embedded_redis"):
        process, url = start_redis(tmp_path, extra_args=slow_load)
    try:
        assert "Redis is loading its append-only file" in caplog.text
        assert Redis.from_url(url).dbsize() == KEYS
    finally:
        process.terminate()
        process.wait(10)


def test_a_supervised_redis_that_dies_is_started_again_on_the_same_socket(tmp_path: Path):
    redis = SupervisedRedis(tmp_path)
    try:
        client = Redis.from_url(redis.url)
        client.set("queued", "1")
        assert redis.check() is False  # alive: nothing to do

        redis.process.send_signal(signal.SIGKILL)
        redis.process.wait(10)
        assert redis.check() is True

        assert client.ping()  # the same URL works again: clients reconnect by themselves
    finally:
        redis.stop()
