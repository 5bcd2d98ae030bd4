"""The conductor's pacing: the show asks its policy when a transition starts and how long it lasts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from installation.scene.conductor import Conductor
from installation.scene.pacing import SecondsPolicy
from installation.scene.parameters import ParameterValues
from installation.scene.show import Show
from installation.scene.stage import transition_seconds
from tests.helpers import flat_stage


@dataclass
class Gate:
    """A pacing whose rest ends only when opened (as a tempo policy's does on its bar), with moves
    of ``length`` seconds."""

    open: bool = False
    length: float = 0.5

    def begins(self, rested: float) -> bool:
        return self.open

    def seconds(self) -> float:
        return self.length


@dataclass
class GatePolicy:
    gate: Gate

    def pacing(self, values: ParameterValues, pace: float) -> Gate:
        return self.gate


def test_the_rest_ends_when_the_pacing_says_not_after_hold() -> None:
    conductor, gate = Conductor(3), Gate()
    for _ in range(600):  # ten seconds of rest: far past any hold
        conductor.update(1 / 60, 1.0, gate)
    assert conductor.target is None
    gate.open = True
    conductor.update(1 / 60, 1.0, gate)
    assert conductor.target == 1


def test_the_move_lasts_the_pacings_seconds() -> None:
    conductor, gate = Conductor(3), Gate(open=True, length=0.5)
    conductor.update(1 / 64, 1.0, gate)  # steps that add up exactly in binary
    gate.open = False
    frames = 0
    while conductor.target is not None:
        conductor.update(1 / 64, 1.0, gate)
        frames += 1
    assert frames == 32 and conductor.index == 1


def test_a_show_takes_its_policy() -> None:
    gate = Gate()
    show = Show(flat_stage(3), policy=GatePolicy(gate))
    for _ in range(300):
        assert show.advance(1 / 60).conductor.target is None
    gate.open = True
    assert show.advance(1 / 60).conductor.target == 1


@pytest.mark.parametrize("pace", [0.0, 0.4, 1.0])
def test_the_seconds_policy_is_hold_and_the_paced_duration(pace: float) -> None:
    values = ParameterValues(hold=1.5, duration=6.0, duration_min=2.0, follow=0.7)
    pacing = SecondsPolicy().pacing(values, pace)
    assert not pacing.begins(1.49) and pacing.begins(1.5)
    assert pacing.seconds() == transition_seconds(6.0, 2.0, pace, 0.7)
