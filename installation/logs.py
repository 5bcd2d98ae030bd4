"""Logging for weeks of running: a repeating warning is written a few times a minute, not 137 a second.

Messages are grouped by the line of code that logs them, so a warning about the same missing
folder or the same bad sender counts as one kind however its values vary, even when a library
formats the values into the message itself; and a message is cut to a few hundred characters,
so no input can write megabytes into the log.

The log file of a show that runs for weeks meets a full disk sooner or later: that is said once
on stderr, the show goes on, and the return of space is said too.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import time
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path

from installation.errors import UserError
from installation.files import open_output

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


class LogFile(RotatingFileHandler):
    """The ``--log-file`` handler: rotated at 5 MB with 5 old files kept (weeks of heartbeats fit).

    The standard handler prints a 30-line "Logging error" traceback for every record it cannot
    write, so a full disk floods stderr (the journal) with tracebacks. This one says once that
    the file cannot be written and why, drops records until a write works again, and says so.
    """

    def __init__(self, path: Path) -> None:
        self._failing = False
        self._failed_now = False
        super().__init__(path, maxBytes=5_000_000, backupCount=5, encoding="utf-8")

    def _open(self) -> io.TextIOWrapper:
        """The file through ``open_output``: a FIFO, a device or a folder in its place is refused."""
        descriptor = open_output(Path(self.baseFilename), "log file", "--log-file")
        return os.fdopen(descriptor, "a", encoding=self.encoding, errors=self.errors)

    def emit(self, record: logging.LogRecord) -> None:
        self._failed_now = False
        super().emit(record)
        if self._failing and not self._failed_now:
            self._failing = False
            print(f"metamorph: the log file {self.baseFilename} is written again.", file=sys.stderr)

    def handleError(self, record: logging.LogRecord) -> None:
        """A file that cannot be written is said once; any other error is the standard report."""
        error = sys.exc_info()[1]
        if not isinstance(error, (OSError, UserError)):
            super().handleError(record)
            return
        self._failed_now = True
        if not self._failing:
            self._failing = True
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            print(
                f"metamorph: the log file {self.baseFilename} cannot be written ({reason}); "
                "the show goes on and logs here until it can.",
                file=sys.stderr,
            )
