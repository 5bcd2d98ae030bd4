"""The conductor: which keyframe is on screen, which comes next, and how far the move has got.

It is plain Python driven by ``update(dt, ...)``, so tests run it with a fake clock. Time is
integrated, not read: progress advances by ``dt * speed / duration`` each frame, so speed can
change smoothly mid-transition without a jump.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from installation.scene.pacing import Pacing


class Order(StrEnum):
    """How the show walks the sequence."""

    FORWARD = "forward"  # first to last, then rest on the last
    LOOP = "loop"  # first to last, then on to the first again
    PINGPONG = "pingpong"  # first to last and back


@dataclass(frozen=True)
class ConductorState:
    """What the scene needs to draw a frame."""

    index: int
    target: int | None
    progress: float
    paused: bool
    transition: int

    @property
    def moving(self) -> bool:
        return self.target is not None


class Conductor:
    """Holds on a keyframe, moves to the next, and takes next/prev/goto/pause at any time."""

    def __init__(self, count: int, order: Order = Order.LOOP, start: int = 0) -> None:
        if count < 1:
            raise ValueError("a sequence needs at least one keyframe")
        self.count = count
        self.order = Order(order)
        self.index = min(max(start, 0), count - 1)
        self.target: int | None = None
        self.progress = 0.0
        self.resting = 0.0
        self.paused = False
        self.transitions = 0
        self._direction = 1

    def state(self) -> ConductorState:
        return ConductorState(self.index, self.target, self.progress, self.paused, self.transitions)

    def update(self, dt: float, speed: float, pacing: Pacing) -> None:
        """Advance by ``dt`` seconds of wall time at ``speed`` (1 = the set times); ``pacing`` says
        when the rest ends and how long the move lasts."""
        if self.paused or dt <= 0.0 or speed <= 0.0:
            return
        step = dt * speed
        if self.target is None:
            self.resting += step
            if pacing.begins(self.resting):
                self._begin(self._following())
            return
        self.progress += step / max(pacing.seconds(), 1e-6)
        if self.progress >= 1.0:
            self._arrive()

    def pass_seconds(self, hold: float, duration: float) -> float:
        """Seconds (at speed 1) of one pass: forward to the last keyframe and its rest, one loop,
        or there and back."""
        count = self.count
        if self.order is Order.FORWARD:
            return count * hold + (count - 1) * duration
        if self.order is Order.LOOP:
            return count * (hold + duration)
        return max(2 * (count - 1), 1) * (hold + duration)

    def next(self) -> None:
        """Move on to the next keyframe now."""
        self._settle()
        self._begin(self._following())

    def prev(self) -> None:
        """Move back to the previous keyframe now (the reverse of the current direction)."""
        self._settle()
        self._direction = -self._direction
        self._begin(self._following())
        self._direction = -self._direction

    def goto(self, index: int) -> None:
        """Move to keyframe ``index`` now (clamped to the sequence)."""
        self._settle()
        self._begin(min(max(int(index), 0), self.count - 1))

    def pause(self, paused: bool | None = None) -> None:
        """Freeze the show (``None`` toggles)."""
        self.paused = (not self.paused) if paused is None else bool(paused)

    def _following(self) -> int | None:
        """The keyframe after the current one in the order, or None where the show ends."""
        if self.count == 1:
            return None
        candidate = self.index + self._direction
        if 0 <= candidate < self.count:
            return candidate
        if self.order is Order.LOOP:
            return candidate % self.count
        if self.order is Order.PINGPONG:
            self._direction = -self._direction
            return self.index + self._direction
        return None

    def _begin(self, target: int | None) -> None:
        self.resting = 0.0
        if target is None or target == self.index:
            return
        self.target = target
        self.progress = 0.0
        self.transitions += 1

    def _arrive(self) -> None:
        if self.target is not None:
            self.index = self.target
        self.target = None
        self.progress = 0.0
        self.resting = 0.0

    def _settle(self) -> None:
        """Finish a transition in flight at once, so a command always starts from a keyframe."""
        if self.target is not None:
            self._arrive()
