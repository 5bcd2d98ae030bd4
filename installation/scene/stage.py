"""A keyframe sequence prepared for the spheres: the keyframes, the grid, and each keyframe's cells.

Preparing a stage reads every PNG and averages every cell, which takes seconds for a long
sequence, so it runs off the render thread (see ``scene/loader.py``); a stage, once made, is
never changed, and the renderer recognises a new one by identity.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from installation.keyframes.sequence import KeyframeSequence, load_sequence
from installation.scene.cells import DEFAULT_COLUMNS, cell_colours, grid_for
from installation.scene.transport import Transport, destinations

_KEPT_PAIRS = 4


@dataclass(frozen=True, eq=False)
class Stage:
    """What every frame of one sequence draws from."""

    sequence: KeyframeSequence
    grid: tuple[int, int]
    cells: tuple[np.ndarray, ...]
    transport: Transport = Transport.COLOR
    _paths: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def name(self) -> str:
        return self.sequence.name

    @property
    def count(self) -> int:
        return len(self.sequence)

    @property
    def aspect(self) -> float:
        height, width = self.sequence.frames[0].shape[:2]
        return width / height

    def destinations(self, index_a: int, index_b: int) -> np.ndarray:
        """Where each sphere of keyframe ``index_a`` ends in ``index_b`` (computed once per pair)."""
        key = (index_a, index_b)
        with self._lock:
            if key not in self._paths:
                if len(self._paths) >= _KEPT_PAIRS:
                    del self._paths[next(iter(self._paths))]
                self._paths[key] = destinations(self.transport, self.cells[index_a], self.cells[index_b])
            return self._paths[key]


def prepare_stage(
    sequence: KeyframeSequence, columns: int = DEFAULT_COLUMNS, transport: Transport = Transport.COLOR
) -> Stage:
    """``sequence`` on a grid of ``columns`` (rows follow its aspect), with every keyframe's cells."""
    grid = grid_for(sequence.manifest.size, columns)
    cells = tuple(cell_colours(frame, grid) for frame in sequence.frames)
    return Stage(sequence, grid, cells, Transport(transport))


def load_stage(folder: Path, columns: int = DEFAULT_COLUMNS, transport: Transport = Transport.COLOR) -> Stage:
    """Read and prepare the sequence in ``folder``; a broken one raises its one-sentence error."""
    return prepare_stage(load_sequence(folder), columns, transport)
