"""Clocks: where a frame's show time comes from. The loop is handed one and never reads time itself.

Every clock answers ``tick()`` with the show time of the frame about to be drawn, and the first
tick is always 0: frame 0 is the show at time 0, in ``play`` and in ``capture`` alike.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable


class Clock(ABC):
    """The show time of each frame, in seconds."""

    @abstractmethod
    def tick(self) -> float:
        """The show time of the next frame: 0 for the first, never less than the last."""


class FixedClock(Clock):
    """Frame i at i / fps exactly: frame-exact playback and capture."""

    def __init__(self, fps: float = 60.0) -> None:
        self.fps = fps
        self.frame = -1

    def tick(self) -> float:
        self.frame += 1
        return self.frame / self.fps


class WallClock(Clock):
    """Real time, with each step capped, so a stall (a slow load, a dragged window) is not a jump."""

    def __init__(self, max_step: float = 0.1, now: Callable[[], float] = time.perf_counter) -> None:
        self.max_step = max_step
        self._now = now
        self._last: float | None = None
        self.time = 0.0

    def tick(self) -> float:
        now = self._now()
        if self._last is not None:
            self.time += min(max(now - self._last, 0.0), self.max_step)
        self._last = now
        return self.time


class ExternalClock(Clock):
    """Time from outside (a tempo's beat clock, a video wall's leader), counted from its first reading."""

    def __init__(self, source: Callable[[], float]) -> None:
        self._source = source
        self._origin: float | None = None
        self.time = 0.0

    def tick(self) -> float:
        now = self._source()
        if self._origin is None:
            self._origin = now
        self.time = max(self.time, now - self._origin)
        return self.time
