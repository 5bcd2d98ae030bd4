"""When a transition starts and how long it lasts: the conductor asks a pacing, once a frame.

The conductor integrates time and walks the sequence; it does not know what a hold or a beat is.
Each frame the show asks its policy for a ``Pacing`` (the questions of this frame, answered
from the parameters and whatever clock the policy follows) and hands it to the conductor. The
seconds policy is the hold and duration parameters; a tempo policy answers the same two questions
in beats (start so as to land on a bar line), so neither the conductor nor the loop changes with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from installation.scene.parameters import ParameterValues
from installation.scene.stage import transition_seconds

if TYPE_CHECKING:
    from installation.scene.conductor import ConductorState
    from installation.scene.modulation import SoundFeatures


class Pacing(Protocol):
    """The conductor's two questions for one frame."""

    def begins(self, rested: float) -> bool:
        """Whether a rest of ``rested`` seconds (at speed 1) on a keyframe ends with this frame."""
        ...

    def seconds(self) -> float:
        """How long the transition in flight lasts, in seconds at speed 1."""
        ...


class Policy(Protocol):
    """Makes each frame's pacing from the values the frame is drawn with."""

    def pacing(self, values: ParameterValues, pace: float) -> Pacing:
        """The pacing of a frame drawn with ``values``, whose move changes the picture by ``pace``
        (``Stage.pace``: 0 nothing, 1 a typical step)."""
        ...


@runtime_checkable
class ObservingPolicy(Policy, Protocol):
    """A policy that follows a clock of its own (a tempo): told each frame, before ``pacing``,
    the frame's show time, its step, where the conductor stands and what the show heard
    (``scene/tempo.py``)."""

    def observe(self, time: float, dt: float, conductor: ConductorState, sound: SoundFeatures) -> None: ...

    def heard(self, sound: SoundFeatures) -> SoundFeatures:
        """What the show hears, after ``observe``: the sound, or a kick on the beat in its place."""
        ...


@dataclass(frozen=True)
class Seconds:
    """Rest ``hold`` seconds, then move for ``duration`` seconds."""

    hold: float
    duration: float

    def begins(self, rested: float) -> bool:
        return rested >= self.hold

    def seconds(self) -> float:
        return self.duration


class SecondsPolicy:
    """The free-running show: the ``hold`` parameter, and a duration from ``duration``,
    ``duration_min`` and how much the move changes the picture."""

    def pacing(self, values: ParameterValues, pace: float) -> Seconds:
        return Seconds(values.hold, transition_seconds(values.duration, values.duration_min, pace, values.follow))
