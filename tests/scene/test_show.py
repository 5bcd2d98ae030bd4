"""The show: one frame state per step, and transport computed once per pair."""

from __future__ import annotations

import pytest

from installation.scene.parameters import Parameters
from installation.scene.show import Show
from installation.scene.stage import prepare_stage
from tests.helpers import flat_stage


def test_rest_then_transition_states() -> None:
    params = Parameters()
    params.set("hold", 1.0)
    params.set("duration", 2.0)
    show = Show(flat_stage(), parameters=params)
    state = show.advance(0.5)
    assert (state.index_a, state.index_b, state.blend.image_a, state.blend.spheres) == (0, 0, 1.0, 0.0)
    assert state.destinations is None
    for _ in range(60):
        state = show.advance(1 / 60)
    state = show.advance(1.0)
    assert (state.index_a, state.index_b, state.transition) == (0, 1, 1)
    assert state.blend.spheres == 1.0 and 0.0 < state.blend.motion < 1.0
    assert state.values.hold == 1.0 and sorted(state.destinations) == list(range(8))


def test_speed_zero_freezes_the_show() -> None:
    params = Parameters()
    params.set("speed", 0.0, immediate=True)
    show = Show(flat_stage(), parameters=params)
    for _ in range(100):
        state = show.advance(1.0)
    assert state.index_a == 0 and not state.conductor.moving


def test_destinations_are_cached_per_pair() -> None:
    stage = flat_stage()
    first = stage.destinations(0, 1)
    assert stage.destinations(0, 1) is first
    assert sorted(first) == list(range(8))
    with pytest.raises(ValueError):
        prepare_stage(stage.sequence, 4, "teleport")


def test_a_switch_keeps_the_parameters_and_starts_the_new_sequence_at_its_first_keyframe() -> None:
    show = Show(flat_stage(3), start=2)
    show.parameters.set("hue", 50.0)
    show.switch(flat_stage(5, name="other"))
    state = show.advance(0.0)
    assert (state.stage.name, state.index_a, state.stage.count, state.settings.hue) == ("other", 0, 5, 50.0)
