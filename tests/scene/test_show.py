"""The show: one frame state per step, and transport computed once per pair."""

from __future__ import annotations

import numpy as np
import pytest

from installation.scene.parameters import Parameters
from installation.scene.show import Show
from installation.scene.transport import Transport
from tests.helpers import sequence_of


def tiny_sequence(count: int = 3):
    return sequence_of([np.full((8, 16, 3), 40 * i, np.uint8) for i in range(count)])


def test_rest_then_transition_states() -> None:
    params = Parameters()
    params.set("hold", 1.0)
    params.set("duration", 2.0)
    show = Show(tiny_sequence(), (4, 2), parameters=params)
    state = show.advance(0.5)
    assert (state.index_a, state.index_b, state.blend.image_a, state.blend.spheres) == (0, 0, 1.0, 0.0)
    for _ in range(60):
        state = show.advance(1 / 60)
    state = show.advance(1.0)
    assert (state.index_a, state.index_b, state.transition) == (0, 1, 1)
    assert state.blend.spheres == 1.0 and 0.0 < state.blend.motion < 1.0
    assert state.parameters["hold"] == 1.0


def test_speed_zero_freezes_the_show() -> None:
    params = Parameters()
    params.set("speed", 0.0, immediate=True)
    show = Show(tiny_sequence(), (4, 2), parameters=params)
    for _ in range(100):
        state = show.advance(1.0)
    assert state.index_a == 0 and not state.conductor.moving


def test_destinations_are_cached_per_pair() -> None:
    show = Show(tiny_sequence(), (4, 2), Transport.COLOR)
    first = show.destinations(0, 1)
    assert show.destinations(0, 1) is first
    assert sorted(first) == list(range(8))
    with pytest.raises(ValueError):
        Show(tiny_sequence(), (4, 2), "teleport")
