"""The show: a stage performed by a conductor with parameters, one ``FrameState`` per frame.

A ``FrameState`` is the whole truth of a frame: the renderer needs nothing else, play and
capture produce the same states for the same inputs. ``Show`` is plain Python; only the frame
pipeline (``scene/pipeline.py``) advances it, and only the command table
(``scene/commands.py``) changes it from outside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from installation.scene.conductor import Conductor, ConductorState, Order
from installation.scene.modulation import SILENCE, SoundFeatures, modulate
from installation.scene.pacing import ObservingPolicy, Policy, SecondsPolicy
from installation.scene.parameters import Parameters, ParameterValues
from installation.scene.schedule import closed_look
from installation.scene.stage import Stage
from installation.scene.tempo import Beat, TempoPolicy
from installation.scene.transition import REST, Blend, blend


@dataclass(frozen=True, eq=False)
class FrameState:
    """Everything a renderer needs for one frame, and what the frame was made of.

    ``values`` are what the frame draws with (smoothed, moved by sound, closed-hours look);
    ``settings`` are what the operator set; ``destinations`` (None at rest) says where each
    sphere of keyframe ``index_a`` ends in ``index_b``.
    """

    stage: Stage
    index_a: int
    index_b: int
    blend: Blend
    transition: int
    values: ParameterValues
    settings: ParameterValues
    conductor: ConductorState
    destinations: np.ndarray | None
    time: float = 0.0
    sound: SoundFeatures = SILENCE
    frame: int = 0
    """The frame's number in its run: 0 for the first frame the pipeline makes."""
    beat: Beat | None = None
    """The beat the show followed this frame (None: it runs free)."""


class Show:
    """One stage performed: its conductor and the parameters (which outlive a sequence switch)."""

    def __init__(
        self,
        stage: Stage,
        order: Order = Order.LOOP,
        parameters: Parameters | None = None,
        start: int = 0,
        policy: Policy | None = None,
    ) -> None:
        self.stage = stage
        self.conductor = Conductor(stage.count, order, start)
        self.parameters = parameters or Parameters()
        self.policy = policy or SecondsPolicy()
        """When transitions start and how long they last (``scene/pacing.py``)."""
        self.requested: str | None = None
        """A sequence asked for by name (the ``sequence`` command); the pipeline loads it."""

    @property
    def name(self) -> str:
        return self.stage.name

    def advance(
        self,
        dt: float,
        sound: SoundFeatures = SILENCE,
        closed: str | None = None,
        time: float = 0.0,
        frame: int = 0,
    ) -> FrameState:
        """Move the show on by ``dt`` seconds, steered by ``sound``, and describe frame number
        ``frame``, at show ``time``, to draw.

        ``closed`` ("black" or "dim") is the look outside opening hours.
        """
        self.parameters.step(dt)
        if isinstance(self.policy, ObservingPolicy):  # before the sound moves the values: a beat may kick
            self.policy.observe(time, dt, self.conductor.state(), sound)
            sound = self.policy.heard(sound)
        values = modulate(self.parameters.values(), sound)
        if closed:
            values = closed_look(values, closed)
        pace = self.stage.pace(self.conductor.index, self.conductor.target)
        self.conductor.update(dt, values.speed, self.policy.pacing(values, pace))
        targets = self.parameters.targets()
        beat = self.policy.beat if isinstance(self.policy, TempoPolicy) and self.policy.locked else None
        return frame_state(self.stage, self.conductor.state(), values, targets, time, sound, frame, beat)

    def switch(self, stage: Stage) -> None:
        """Perform ``stage`` from its first keyframe on, keeping the parameters and the order."""
        self.stage = stage
        self.conductor = Conductor(stage.count, self.conductor.order)

    def pass_seconds(self) -> float:
        """Wall seconds of one pass through the sequence at the set parameters (inf at speed 0)."""
        p = self.parameters
        if p.target("speed") <= 0.0:
            return math.inf
        return self.conductor.pass_seconds(p.target("hold"), p.target("duration")) / p.target("speed")


def frame_state(
    stage: Stage,
    conductor: ConductorState,
    values: ParameterValues,
    settings: ParameterValues | None = None,
    time: float = 0.0,
    sound: SoundFeatures = SILENCE,
    frame: int = 0,
    beat: Beat | None = None,
) -> FrameState:
    """The frame of ``stage`` where ``conductor`` stands, drawn with ``values``."""
    target = conductor.index if conductor.target is None else conductor.target
    moving = conductor.target is not None
    return FrameState(
        stage=stage,
        index_a=conductor.index,
        index_b=target,
        blend=blend(conductor.progress) if moving else REST,
        transition=conductor.transition,
        values=values,
        settings=settings or values,
        conductor=conductor,
        destinations=stage.destinations(conductor.index, target) if moving else None,
        time=time,
        sound=sound,
        frame=frame,
        beat=beat,
    )


def transition_frame(
    stage: Stage, index_a: int, index_b: int, progress: float, values: ParameterValues | None = None
) -> FrameState:
    """The frame ``progress`` of the way from keyframe ``index_a`` to ``index_b`` (tests, benchmarks)."""
    conductor = ConductorState(index_a, index_b, progress, paused=False, transition=1)
    return frame_state(stage, conductor, values or ParameterValues())
