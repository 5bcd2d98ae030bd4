"""A keyframe sequence prepared for the spheres: the keyframes, the grid, and each keyframe's cells.

It also measures how much the model changed the picture, so motion can show it: each sphere's
change is the OKLab distance between its cell in keyframe A and its destination cell in B, and
the sequence's ``typical_change`` (the mean change of a cell from one keyframe to the next) is the
unit both the spheres' wander and the transitions' lengths are measured in.

Preparing a stage reads every PNG and averages every cell, which takes seconds for a long
sequence, so it runs off the render thread (see ``scene/loader.py``); a stage, once made, is
never changed, and the renderer recognises a new one by identity.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from installation.keyframes.oklab import srgb_to_oklab
from installation.keyframes.sequence import KeyframeSequence, load_sequence, map_frames
from installation.scene.cells import DEFAULT_COLUMNS, cell_colours, grid_for
from installation.scene.transport import Transport, destinations

_KEPT_PAIRS = 4
_MOST_WANDER = 4.0
"""The widest a sphere wanders, in multiples of the diffusion: a cell that changes 4 times as much as
a typical cell of the sequence already stands out, and more would throw it off the picture."""


@dataclass(frozen=True)
class Pair:
    """What moves from keyframe A to B: each sphere's destination and how much its cell changes."""

    destinations: np.ndarray
    wander: np.ndarray
    """Per sphere, its cell's change in units of the sequence's typical change (float32, capped)."""
    change: float
    """The pair's mean change of a cell, in the same unit: 1 is a typical step of the sequence."""


@dataclass(frozen=True, eq=False)
class Stage:
    """What every frame of one sequence draws from."""

    sequence: KeyframeSequence
    grid: tuple[int, int]
    cells: tuple[np.ndarray, ...]
    transport: Transport = Transport.COLOR
    typical_change: float = 1.0
    """The mean OKLab distance of a cell between neighbouring keyframes (never 0)."""
    _pairs: dict[tuple[int, int], Pair] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def name(self) -> str:
        return self.sequence.name

    @functools.cached_property
    def manifest_hash(self) -> bytes:
        """The SHA-256 of the manifest: two shows play the same keyframes when these agree."""
        return hashlib.sha256(self.sequence.manifest.to_json().encode()).digest()

    @property
    def count(self) -> int:
        return len(self.sequence)

    @property
    def aspect(self) -> float:
        height, width = self.sequence.frames[0].shape[:2]
        return width / height

    def destinations(self, index_a: int, index_b: int) -> np.ndarray:
        """Where each sphere of keyframe ``index_a`` ends in ``index_b`` (computed once per pair)."""
        return self.pair(index_a, index_b).destinations

    def pair(self, index_a: int, index_b: int) -> Pair:
        """The move from keyframe ``index_a`` to ``index_b``, computed once and kept for a while."""
        key = (index_a, index_b)
        with self._lock:
            if key not in self._pairs:
                if len(self._pairs) >= _KEPT_PAIRS:
                    del self._pairs[next(iter(self._pairs))]
                self._pairs[key] = self._measure(index_a, index_b)
            return self._pairs[key]

    def pace(self, index_a: int, index_b: int | None) -> float:
        """How much the move from ``index_a`` to ``index_b`` changes the picture, in [0, 1]: 0 nothing,
        1 a typical step of the sequence or more (1 at rest); ``transition_seconds`` turns it into time."""
        return 1.0 if index_b is None else min(self.pair(index_a, index_b).change, 1.0)

    def _measure(self, index_a: int, index_b: int) -> Pair:
        ends = destinations(self.transport, self.cells[index_a], self.cells[index_b])
        change = _cell_change(self.cells[index_a], self.cells[index_b].reshape(-1, 3)[ends])
        grid_change = _cell_change(self.cells[index_a], self.cells[index_b])
        wander = np.minimum(change / self.typical_change, _MOST_WANDER).astype(np.float32)
        return Pair(ends, wander, float(grid_change.mean()) / self.typical_change)


def transition_seconds(duration: float, duration_min: float, pace: float, follow: float) -> float:
    """A transition's length: between ``duration_min`` and ``duration`` by how much the picture
    changes (``pace`` from ``Stage.pace``), blended with the plain ``duration`` by ``follow``."""
    driven = duration_min + (duration - duration_min) * pace if duration_min < duration else duration
    return duration + (driven - duration) * follow


def _cell_change(cells_a: np.ndarray, cells_b: np.ndarray) -> np.ndarray:
    """The OKLab distance between two lists (or grids) of 8-bit cell colours, flattened."""
    lab_a = srgb_to_oklab(cells_a.reshape(-1, 3).astype(np.float32) / 255.0)
    lab_b = srgb_to_oklab(cells_b.reshape(-1, 3).astype(np.float32) / 255.0)
    return np.linalg.norm(lab_a - lab_b, axis=1)


def typical_change(cells: tuple[np.ndarray, ...]) -> float:
    """The mean change of a cell between neighbouring keyframes: the sequence's own unit of change."""
    steps = [float(_cell_change(a, b).mean()) for a, b in zip(cells, cells[1:], strict=False)]
    return max(float(np.mean(steps)) if steps else 0.0, 1e-4)


def prepare_stage(
    sequence: KeyframeSequence, columns: int = DEFAULT_COLUMNS, transport: Transport = Transport.COLOR
) -> Stage:
    """``sequence`` on a grid of ``columns`` (rows follow its aspect), with every keyframe's cells."""
    grid = grid_for(sequence.manifest.size, columns)
    cells = tuple(map_frames(lambda frame: cell_colours(frame, grid), sequence.frames))  # Pillow lets go of the GIL
    return Stage(sequence, grid, cells, Transport(transport), typical_change(cells))


def load_stage(folder: Path, columns: int = DEFAULT_COLUMNS, transport: Transport = Transport.COLOR) -> Stage:
    """Read and prepare the sequence in ``folder``; a broken one raises its one-sentence error."""
    return prepare_stage(load_sequence(folder), columns, transport)
