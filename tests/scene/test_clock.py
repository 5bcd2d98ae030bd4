"""Clocks: frame 0 is at time 0 whatever the clock; fixed steps are exact; real time is capped."""

from __future__ import annotations

import itertools

import pytest

from installation.scene.clock import ExternalClock, FixedClock, WallClock


@pytest.mark.parametrize("fps", [24.0, 30.0, 60.0, 59.94])
def test_fixed_clock_frame_i_is_at_i_over_fps(fps: float) -> None:
    clock = FixedClock(fps)
    assert [clock.tick() for _ in range(4)] == [0.0, 1 / fps, 2 / fps, 3 / fps]


def test_wall_clock_starts_at_zero_and_caps_a_stall() -> None:
    readings = iter([100.0, 100.016, 105.0, 105.5])
    clock = WallClock(max_step=0.1, now=lambda: next(readings))
    assert [round(clock.tick(), 6) for _ in range(4)] == [0.0, 0.016, 0.116, 0.216]


def test_external_clock_counts_from_its_first_reading_and_never_goes_back() -> None:
    readings = iter([1000.0, 1000.5, 1000.25, 1002.0])
    clock = ExternalClock(lambda: next(readings))
    assert [clock.tick() for _ in range(4)] == [0.0, 0.5, 0.5, 2.0]


def test_fixed_clock_at_scale_keeps_exact_times() -> None:
    clock = FixedClock(30.0)
    last = list(itertools.islice(iter(clock.tick, None), 90_001))[-1]
    assert last == 3000.0
