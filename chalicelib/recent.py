"""A container's memory of recent values, so hot reads do not all reach DynamoDB."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

MAX_KEYS = 10_000


class Recent:
    """Values younger than max_age seconds are served from memory. When one is older, a single
    caller fetches it again while the others keep the old value for that moment: a hot card's
    expiry costs one read, not one per request in flight. max_age 0 turns the memory off."""

    def __init__(self, max_age: float):
        self.max_age = max_age
        self._values: dict[str, tuple[float, Any]] = {}
        self._fetching: set[str] = set()
        self._lock = threading.Lock()

    def get(self, key: str, fetch: Callable[[], Any]) -> Any:
        if self.max_age <= 0:
            return fetch()
        with self._lock:
            entry = self._values.get(key)
            if entry and (time.monotonic() - entry[0] < self.max_age or key in self._fetching):
                return entry[1]
            self._fetching.add(key)
        try:
            value = fetch()
            self.put(key, value)
            return value
        finally:
            with self._lock:
                self._fetching.discard(key)

    def put(self, key: str, value: Any) -> None:
        if self.max_age <= 0:
            return
        with self._lock:
            if len(self._values) >= MAX_KEYS:
                self._values.clear()
            self._values[key] = (time.monotonic(), value)

    def change(self, key: str, edit: Callable[[Any], Any]) -> Any:
        """Apply this container's own write to the remembered value, if there is one; returns what
        the edit returns (it runs under the lock, so a read-and-change is atomic here)."""
        with self._lock:
            entry = self._values.get(key)
            return edit(entry[1]) if entry else None

    def age(self, key: str) -> float:
        """Seconds since the value was read; infinite when there is none."""
        with self._lock:
            entry = self._values.get(key)
        return time.monotonic() - entry[0] if entry else float("inf")

    def forget(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)
