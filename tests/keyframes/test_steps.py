"""Which denoising steps become keyframes (``keyframes/request.py``'s ``capture_indices``)."""

import itertools

import pytest

from installation.keyframes.request import capture_indices


@pytest.mark.parametrize("executed, captures", [(37, 15), (15, 15), (50, 1), (7, 3), (1000, 15)])
def test_captures_are_distinct_evenly_spread_and_end_on_the_last_step(executed: int, captures: int) -> None:
    indices = capture_indices(executed, captures)
    assert len(indices) == len(set(indices)) == captures
    assert indices == sorted(indices)
    assert indices[-1] == executed - 1
    gaps = [b - a for a, b in itertools.pairwise([-1, *indices])]
    assert max(gaps) - min(gaps) <= 1


def test_every_step_when_captures_equal_steps() -> None:
    assert capture_indices(5, 5) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("captures", [0, 38])
def test_impossible_capture_counts_are_refused(captures: int) -> None:
    with pytest.raises(ValueError):
        capture_indices(37, captures)
