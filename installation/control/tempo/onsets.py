"""Tempo and beat phase from the sound's onsets (``play --sync audio``), in numpy.

The live analysis (``control/analysis.py``) marks the frames with an onset; this tracker takes
their times and finds the beat period that lines them up best in the octave 90-180 BPM (a
phase-coherence score over a grid of periods, recent onsets weighing more), then fits the
period and phase by least squares through the onsets that fall on that grid. One octave only,
so a steady four-on-the-floor kick at 128 is never taken for 64 or 256. When three onsets in a
row miss the grid, the tempo has changed: the older onsets are dropped, there is no lock until
enough new ones agree (a handful of beats), and the beat count goes on where it was.

It says when it has no lock: fewer than ``MIN_ONSETS`` onsets that agree, or no onset for
``LOST`` seconds (a silent input); the show then runs free.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from installation.scene.modulation import SoundFeatures
from installation.scene.tempo import Beat

LOW, HIGH = 90.0, 180.0
WINDOW = 8.0
"""Seconds of onsets the estimate looks at."""
MIN_ONSETS = 6
MISS = 0.2
"""Beats off the grid at which an onset misses it."""
MISSES = 3
LOST = 4.0
MIN_SCORE = 0.5
"""Phase coherence (0 random, 1 a perfect grid) of the best period below which there is no beat."""
INLIER = 0.12
"""Beats off the grid within which an onset is fitted..."""
MIN_SHARE = 0.6
"""...and the share of the window's onsets that must be, for a lock."""
HALF_LIFE = 3.0
"""Seconds over which an onset's weight in the period search halves."""
_PERIODS = 60.0 / np.geomspace(LOW, HIGH, 64, endpoint=False)


@dataclass(frozen=True)
class _Model:
    period: float
    anchor: float
    """The time of beat ``beat`` (on the fitted line)."""
    beat: float

    def at(self, t: float) -> float:
        return self.beat + (t - self.anchor) / self.period


class OnsetTempo:
    """A beat source listening to the show's own sound analysis."""

    name = "audio"

    def __init__(self, quantum: float = 4.0) -> None:
        self.quantum = quantum
        self._onsets: deque[float] = deque(maxlen=64)
        self._model: _Model | None = None
        self._grid: _Model | None = None
        """The last grid found, kept across a lost lock so the beat count goes on."""
        self._misses = 0
        self._last = -math.inf

    @property
    def locked(self) -> bool:
        return self._model is not None

    def hear(self, time: float, dt: float, sound: SoundFeatures) -> None:
        """The frame from ``time - dt`` to ``time`` heard ``sound``: an onset counts at its middle."""
        if sound.onset:
            self.onset(time - dt / 2)

    def onset(self, t: float) -> None:
        """An onset at time ``t`` (seconds, the same clock as ``read``)."""
        if self._onsets and t <= self._onsets[-1]:
            return
        self._onsets.append(t)
        self._last = t
        model = self._model
        if model is not None:
            beat = model.at(t)
            if abs(beat - round(beat)) > MISS:
                self._misses += 1
            else:
                self._misses = 0
            if self._misses >= MISSES:
                keep = list(self._onsets)[-MISSES:]
                self._onsets.clear()
                self._onsets.extend(keep)
                self._model, self._misses = None, 0
        while self._onsets and self._onsets[0] < t - WINDOW:
            self._onsets.popleft()
        if len(self._onsets) >= MIN_ONSETS:
            self._estimate()

    def _estimate(self) -> None:
        times = np.fromiter(self._onsets, float)
        newest = times[-1]
        weights = np.exp2((times - newest) / HALF_LIFE)
        phases = np.exp(2j * np.pi * (times - newest)[None, :] / _PERIODS[:, None])
        scores = np.abs(phases @ weights) / weights.sum()
        best = int(np.argmax(scores))
        if scores[best] < MIN_SCORE:
            return
        period = float(_PERIODS[best])
        for _ in range(3):
            index = np.round((times - newest) / period)
            residual = (times - newest) / period - index
            inliers = np.abs(residual) < INLIER
            if inliers.sum() < MIN_ONSETS or np.ptp(index[inliers]) < 3:
                return
            x, y = index[inliers], times[inliers]
            x_mean, y_mean = x.mean(), y.mean()
            period = float(((x - x_mean) @ (y - y_mean)) / ((x - x_mean) @ (x - x_mean)))
            fit_anchor = y_mean - period * x_mean  # the fitted time of index 0, the newest onset
        if not (60.0 / HIGH * 0.97 < period < 60.0 / LOW * 1.03) or inliers.mean() < MIN_SHARE:
            return
        anchor = float(fit_anchor)  # the fitted time of the newest onset's beat
        previous = self._model or self._grid
        if previous is not None:
            beat = float(round(previous.at(anchor)))
        else:
            beat = float(np.ptp(index[inliers]))  # the first onset that agrees is beat 0
        self._model = self._grid = _Model(period, anchor, beat)

    def read(self, show_time: float) -> Beat | None:
        model = self._model
        if model is None:
            return None
        locked = show_time - self._last < LOST
        return Beat(60.0 / model.period, model.at(show_time), self.quantum, locked=locked, time=show_time)

    def close(self) -> None:
        pass
