"""The three acts of a transition."""

import pytest

from installation.scene.transition import FADE, blend


def test_ends_show_the_keyframes_and_the_middle_only_spheres() -> None:
    start, middle, end = blend(0.0), blend(0.5), blend(1.0)
    assert (start.image_a, start.image_b, start.motion) == (1.0, 0.0, 0.0)
    assert (middle.image_a, middle.image_b, middle.spheres) == (0.0, 0.0, 1.0)
    assert middle.motion == pytest.approx(0.5)
    assert (end.image_a, end.image_b, end.motion) == (0.0, 1.0, 1.0)


def test_spheres_only_move_once_the_picture_has_dissolved() -> None:
    assert blend(FADE).motion == 0.0 and blend(FADE).image_a == 0.0
    assert blend(1 - FADE).motion == 1.0 and blend(1 - FADE).image_b == 0.0


def test_motion_is_monotonic() -> None:
    motions = [blend(i / 100).motion for i in range(101)]
    assert motions == sorted(motions)
