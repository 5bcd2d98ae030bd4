"""The watchdog: a render loop that stops drawing ends the process, so the service restarts it.

A stalled loop cannot rescue itself (a driver hang, a deadlock), so a separate thread watches
the time of the last frame and exits the process with code 3 when it is too old.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
STALLED_EXIT_CODE = 3
SHORTEST_TIMEOUT = 5.0
"""The shortest timeout ``--watchdog`` takes: a frame at 4K on a weak GPU takes a fifth of a
second and the first one (textures uploaded, shaders compiled) a second or two, so anything
shorter ends a healthy show before or between its frames, and under systemd restarts it in a loop."""


class Watchdog:
    """Exits with STALLED_EXIT_CODE when no ``beat`` came for ``timeout`` seconds of ``clock``; a
    thread of its own checks, unless ``watching`` is off (tests call ``check`` themselves)."""

    def __init__(
        self,
        timeout: float = 15.0,
        exit: Callable[[int], None] = os._exit,
        clock: Callable[[], float] = time.monotonic,
        watching: bool = True,
    ) -> None:
        self.timeout = timeout
        self._exit = exit
        self._clock = clock
        self._last = clock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="watchdog", daemon=True)
        if watching:
            self._thread.start()

    def beat(self) -> None:
        """Called once per frame."""
        self._last = self._clock()

    def check(self) -> bool:
        """Exit if the last frame is older than the timeout; whether it did."""
        stalled = self._clock() - self._last
        if stalled <= self.timeout:
            return False
        log.critical(
            "watchdog: no frame for %.1f s; exiting with code %d so the service restarts the show",
            stalled,
            STALLED_EXIT_CODE,
        )
        self._exit(STALLED_EXIT_CODE)
        return True

    def _watch(self) -> None:
        while not self._stop.wait(min(1.0, self.timeout / 4)):
            if self.check():
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
