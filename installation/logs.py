"""Logging for weeks of running: a repeating warning is written a few times a minute, not 137 a second.

Messages are grouped by the line of code that logs them, so a warning about the same missing
folder or the same bad sender counts as one kind however its values vary, even when a library
formats the values into the message itself; and a message is cut to a few hundred characters,
so no input can write megabytes into the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

MESSAGE_LIMIT = 400


class RateLimit(logging.Filter):
    """Lets at most ``burst`` records of one template through per ``period`` seconds, then says how
    many it held back."""

    def __init__(self, burst: int = 5, period: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst = burst
        self.period = period
        self._clock = clock
        self._windows: dict[tuple[str, int], tuple[float, int, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.pathname, record.lineno)
        if isinstance(record.msg, str) and len(record.msg) > MESSAGE_LIMIT:
            record.msg = record.msg[:MESSAGE_LIMIT] + "…"
        now = self._clock()
        start, count, held = self._windows.get(key, (now, 0, 0))
        if now - start >= self.period:
            if held:
                record.msg = f"{record.msg} (and {held} more like it in the last {self.period:.0f} s)"
            start, count, held = now, 0, 0
        if count >= self.burst:
            self._windows[key] = (start, count, held + 1)
            return False
        if len(self._windows) > 1000:
            self._windows.clear()
        self._windows[key] = (start, count + 1, held)
        return True
