"""Tap tempo: four taps set the tempo, the last tap sets the phase; a pause of 2 s starts a new count.

The taps of a count are beats 0, 1, 2, 3... of a bar (the first tap is a downbeat), so the
last tap puts the beat on an integer and the bar where the count began. More than four taps go
on refining the tempo (a line fitted through the count's last eight). ``tap`` may be called from
any thread (a key, ``/tap``, the control page); ``read`` (render thread) only reads the reading
the last tap made, one reference, so it never waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from installation.scene.tempo import Beat, valid_tempo

TAPS = 4
"""Taps of a count that set the tempo."""
PAUSE = 2.0
"""Seconds without a tap after which the next tap starts a new count."""
FIT = 8


@dataclass(frozen=True)
class _Grid:
    tempo: float
    anchor: float
    """The clock time of the beat ``beat``."""
    beat: float


class TapTempo:
    """The operator's taps as a beat source (clock: ``now``, seconds)."""

    name = "tap"

    def __init__(self, quantum: float = 4.0, now: Callable[[], float] = time.perf_counter) -> None:
        self.quantum = quantum
        self._now = now
        self._taps: list[float] = []
        self._grid: _Grid | None = None
        self._lock = threading.Lock()  # taps from two threads at once; ``read`` never takes it
        self.rejected = 0

    def tap(self, at: float | None = None) -> None:
        """One tap, now or at clock time ``at``."""
        when = self._now() if at is None else float(at)
        with self._lock:
            if self._taps and not (0.0 < when - self._taps[-1] < PAUSE):
                self._taps = []
            self._taps.append(when)
            count = len(self._taps)
            if count < TAPS:
                return
            recent = self._taps[-FIT:]
            first = count - len(recent)
            n = len(recent)
            mean_i = (n - 1) / 2
            mean_t = sum(recent) / n
            slope = sum((i - mean_i) * (t - mean_t) for i, t in enumerate(recent)) / sum(
                (i - mean_i) ** 2 for i in range(n)
            )
            tempo = 60.0 / slope if slope > 0 else 0.0
            if not valid_tempo(tempo):
                self.rejected += 1
                return
            self._grid = _Grid(tempo, when, float(first + n - 1))

    def set_tempo(self, bpm: float) -> bool:
        """``/tempo``: the tempo set, the phase kept."""
        if not valid_tempo(bpm):
            self.rejected += 1
            return False
        now = self._now()
        with self._lock:
            grid = self._grid
            beat = 0.0 if grid is None else grid.beat + (now - grid.anchor) * grid.tempo / 60.0
            self._grid = _Grid(float(bpm), now, beat)
        return True

    @property
    def taps(self) -> int:
        """Taps in the current count."""
        return len(self._taps)

    def read(self, show_time: float) -> Beat | None:
        grid = self._grid
        if grid is None:
            return None
        now = self._now()
        return Beat(grid.tempo, grid.beat + (now - grid.anchor) * grid.tempo / 60.0, self.quantum, time=now)

    def close(self) -> None:
        pass
