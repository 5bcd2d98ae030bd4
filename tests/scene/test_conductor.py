"""The conductor with a fake clock: holds, transitions, orders and commands."""

from __future__ import annotations

import pytest

from installation.scene.conductor import Conductor, Order
from installation.scene.pacing import Seconds


def run(
    conductor: Conductor, seconds: float, speed: float = 1.0, hold: float = 2.0, duration: float = 4.0
) -> list[tuple[int, int | None]]:
    """Step a fake clock at 60 fps; return every distinct (index, target) seen."""
    seen = [(conductor.index, conductor.target)]
    for _ in range(round(seconds * 60)):
        conductor.update(1 / 60, speed, Seconds(hold, duration))
        if (conductor.index, conductor.target) != seen[-1]:
            seen.append((conductor.index, conductor.target))
    return seen


def test_holds_then_moves_then_arrives() -> None:
    conductor = Conductor(3)
    assert run(conductor, 1.9) == [(0, None)]
    run(conductor, 0.2)
    assert conductor.target == 1 and conductor.progress < 0.05
    run(conductor, 2.0)
    assert conductor.progress == pytest.approx(0.5, abs=0.03)
    run(conductor, 2.05)
    assert (conductor.index, conductor.target) == (1, None)


def test_progress_integrates_speed() -> None:
    conductor = Conductor(3)
    conductor.next()
    conductor.update(1.0, 2.0, Seconds(2.0, 4.0))
    assert conductor.progress == pytest.approx(0.5)
    conductor.update(1.0, 0.5, Seconds(2.0, 4.0))
    assert conductor.progress == pytest.approx(0.625)


@pytest.mark.parametrize(
    "order, visits",
    [
        (Order.FORWARD, [0, 1, 2]),
        (Order.LOOP, [0, 1, 2, 0, 1]),
        (Order.PINGPONG, [0, 1, 2, 1, 0, 1]),
    ],
)
def test_orders(order: Order, visits: list[int]) -> None:
    conductor = Conductor(3, order)
    seen = run(conductor, 6.0 * (len(visits) - 1) + 1.0)
    arrivals = [index for index, target in seen if target is None]
    assert arrivals[: len(visits)] == visits
    if order is Order.FORWARD:
        assert arrivals == [0, 1, 2] and conductor.target is None


def test_pause_freezes_everything() -> None:
    conductor = Conductor(3)
    conductor.next()
    conductor.update(1.0, 1.0, Seconds(2.0, 4.0))
    conductor.pause()
    run(conductor, 10.0)
    assert conductor.progress == pytest.approx(0.25) and conductor.paused
    conductor.pause()
    assert not conductor.paused


def test_next_mid_transition_settles_first() -> None:
    conductor = Conductor(4)
    conductor.next()
    conductor.update(1.0, 1.0, Seconds(2.0, 4.0))
    conductor.next()
    assert (conductor.index, conductor.target, conductor.progress) == (1, 2, 0.0)
    assert conductor.transitions == 2


def test_prev_and_goto() -> None:
    conductor = Conductor(5, Order.LOOP)
    conductor.prev()
    assert conductor.target == 4
    conductor.goto(2)
    assert (conductor.index, conductor.target) == (4, 2)
    conductor.goto(99)
    assert (conductor.index, conductor.target) == (2, 4)
    conductor.next()  # settles on 4, wraps around to 0
    assert (conductor.index, conductor.target) == (4, 0)


def test_goto_the_current_keyframe_does_nothing() -> None:
    conductor = Conductor(3)
    conductor.goto(0)
    assert conductor.target is None and conductor.transitions == 0


def test_forward_prev_at_the_start_stays() -> None:
    conductor = Conductor(3, Order.FORWARD)
    conductor.prev()
    assert conductor.target is None and conductor.index == 0


def test_single_keyframe_never_moves() -> None:
    conductor = Conductor(1)
    run(conductor, 30.0)
    conductor.next()
    assert (conductor.index, conductor.target) == (0, None)
