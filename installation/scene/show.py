"""The show: parameters and conductor advanced together into one ``FrameState`` per frame.

The live loop and the capture loop both call ``Show.advance``; a frame is a pure function of
the state it returns, which is what makes a capture at time t the frame the live loop shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from installation.keyframes.demo import demo_sequence
from installation.keyframes.sequence import KeyframeSequence, load_sequence
from installation.scene.cells import DEFAULT_COLUMNS, cell_colours, grid_for
from installation.scene.conductor import Conductor, ConductorState, Order
from installation.scene.modulation import SILENCE, SoundFeatures, modulate
from installation.scene.parameters import Parameters
from installation.scene.schedule import closed_look
from installation.scene.transition import REST, Blend, blend
from installation.scene.transport import Transport, destinations

_KEPT_PAIRS = 4


@dataclass(frozen=True)
class FrameState:
    """Everything a renderer needs for one frame."""

    index_a: int
    index_b: int
    blend: Blend
    transition: int
    parameters: dict[str, float]
    conductor: ConductorState


class Show:
    """One keyframe sequence performed: cells, transport, conductor and parameters."""

    def __init__(
        self,
        sequence: KeyframeSequence,
        grid: tuple[int, int],
        transport: Transport = Transport.COLOR,
        order: Order = Order.LOOP,
        parameters: Parameters | None = None,
    ) -> None:
        self.sequence = sequence
        self.grid = grid
        self.transport = Transport(transport)
        self.conductor = Conductor(len(sequence), order)
        self.parameters = parameters or Parameters()
        self.cells = [cell_colours(frame, grid) for frame in sequence.frames]
        self._paths: dict[tuple[int, int], np.ndarray] = {}

    def advance(self, dt: float, sound: SoundFeatures = SILENCE, closed: str | None = None) -> FrameState:
        """Move the show on by ``dt`` seconds, steered by ``sound``, and describe the frame to draw.

        ``closed`` ("black" or "dim") is the look outside opening hours.
        """
        self.parameters.step(dt)
        values = modulate(self.parameters, sound)
        if closed:
            values = closed_look(values, closed)
        self.conductor.update(dt, values["speed"], values["hold"], values["duration"])
        return self.frame_state(values)

    def frame_state(self, values: dict[str, float] | None = None) -> FrameState:
        state = self.conductor.state()
        target = state.index if state.target is None else state.target
        mix = REST if state.target is None else blend(state.progress)
        values = self.parameters.snapshot() if values is None else values
        return FrameState(state.index, target, mix, state.transition, values, state)

    def pass_seconds(self) -> float:
        """Wall seconds of one pass through the sequence at the set parameters (inf at speed 0)."""
        p = self.parameters
        if p["speed"] <= 0.0:
            return math.inf
        return self.conductor.pass_seconds(p["hold"], p["duration"]) / p["speed"]

    def destinations(self, index_a: int, index_b: int) -> np.ndarray:
        """Where each sphere of keyframe ``index_a`` ends in ``index_b`` (computed once per pair)."""
        key = (index_a, index_b)
        if key not in self._paths:
            if len(self._paths) >= _KEPT_PAIRS:
                del self._paths[next(iter(self._paths))]
            self._paths[key] = destinations(self.transport, self.cells[index_a], self.cells[index_b])
        return self._paths[key]


@dataclass
class ShowOptions:
    """The look and motion options that ``play`` and ``capture`` share."""

    sequence: Path | None = None
    columns: int = DEFAULT_COLUMNS
    transport: Transport = Transport.COLOR
    order: Order = Order.LOOP
    parameters: dict[str, float] = field(default_factory=dict)


def open_show(options: ShowOptions, sequence: Path | None = None, parameters: Parameters | None = None) -> Show:
    """A sequence (``sequence``, else the one named by the options, else the demo) set up as a show.

    The options' parameters are applied to a fresh registry; a registry passed in (a running
    show switching sequence) is kept as it is.
    """
    path = sequence or options.sequence
    loaded = load_sequence(path) if path else demo_sequence()
    if parameters is None:
        parameters = Parameters()
        for name, value in options.parameters.items():
            parameters.set(name, value, immediate=True)
    grid = grid_for(loaded.manifest.size, options.columns)
    return Show(loaded, grid, options.transport, options.order, parameters)
