"""A least-recently-used cache bounded by the total weight of what it keeps, not by a count:
for values whose size varies by orders of magnitude with their key (a parsed stylesheet takes
~100 times its text in memory)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class WeighedCache(Generic[K, V]):
    """Values computed once per key and kept while the weights of the kept keys add up to no
    more than `budget` (a unit of the caller's choosing); the least recently used go first. A
    key heavier than the whole budget is computed every time and never kept."""

    def __init__(self, budget: int, weigh: Callable[[K], int]):
        self.budget = budget
        self.weigh = weigh
        self.weight = 0  # of the keys kept now
        self._kept: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()  # a web process renders previews on several threads

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The value kept for `key`, or `compute()`'s, kept if it fits. `compute` runs outside
        the lock: two threads missing the same key both compute it, and the later one is kept."""
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        value = compute()
        weight = self.weigh(key)
        if weight > self.budget:
            return value
        with self._lock:
            if key in self._kept:
                self.weight -= weight
            self._kept[key] = value
            self.weight += weight
            while self.weight > self.budget:
                evicted, _ = self._kept.popitem(last=False)
                self.weight -= self.weigh(evicted)
        return value
