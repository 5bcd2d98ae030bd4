"""Pixels of rendered frames on a real OpenGL context."""

from __future__ import annotations

import numpy as np
import pytest

from installation.keyframes.demo import alpine_scene
from installation.keyframes.images import to_uint8
from installation.scene.show import Show
from installation.scene.stage import prepare_stage
from installation.scene.transport import Transport
from tests.helpers import sequence_of
from tests.render.conftest import SIZE, make_renderer

RED, BLUE = (220, 30, 40), (30, 60, 220)


def halves(left, right) -> np.ndarray:
    frame = np.empty((SIZE[1], SIZE[0], 3), np.uint8)
    frame[:, : SIZE[0] // 2] = left
    frame[:, SIZE[0] // 2 :] = right
    return frame


@pytest.fixture(scope="module")
def scenery() -> list[np.ndarray]:
    """The alpine scene, its mirror image and its negative: three keyframes of the window's size."""
    scene = to_uint8(alpine_scene(*SIZE))
    return [scene, np.ascontiguousarray(scene[:, ::-1]), 255 - scene]


def show_of(frames, transport=Transport.GRID, columns=20, **parameters) -> Show:
    show = Show(prepare_stage(sequence_of(frames), columns, transport))
    for name, value in {"backdrop": 0.0, **parameters}.items():  # the spheres alone, on black
        show.parameters.set(name, value, immediate=True)
    return show


def test_rest_frame_is_the_keyframe(gl_window, draw, scenery) -> None:
    frame = draw(make_renderer(show_of(scenery)), None)
    difference = np.abs(frame.astype(int) - scenery[0].astype(int))
    assert difference.mean() < 1.0 and difference.max() <= 4


def test_end_of_transition_is_the_next_keyframe(gl_window, draw, scenery) -> None:
    frame = draw(make_renderer(show_of(scenery)), 1.0)
    assert np.abs(frame.astype(int) - scenery[1].astype(int)).mean() < 1.0


def test_mid_transition_shows_separate_discs(gl_window, draw, scenery) -> None:
    white = [np.full_like(scenery[0], 230)] * 2
    frame = draw(make_renderer(show_of(white, diffusion=0.0, size=0.7)), 0.5).astype(int)
    cell = SIZE[0] // 20
    centres = frame[cell // 2 :: cell, cell // 2 :: cell]
    corners = frame[::cell, ::cell]
    assert centres.mean() > 150
    assert corners.max() < 10  # background between the discs
    assert 0.2 < (frame.sum(-1) > 30).mean() < 0.55  # discs of 0.7 cell: 38%, and their edge pixels


def test_spheres_are_shaded(gl_window, draw, scenery) -> None:
    grey = [np.full_like(scenery[0], 160)] * 2
    frame = draw(make_renderer(show_of(grey, diffusion=0.0, size=1.0, columns=4)), 0.5).astype(int)
    disc = frame[:, : SIZE[0] // 4].sum(-1)
    lit = np.unravel_index(disc.argmax(), disc.shape)
    assert disc.max() > 1.4 * disc[disc > 30].min()  # a highlight and a shaded side
    assert lit[1] < SIZE[0] // 8  # the light comes from the upper left


def test_same_state_gives_the_same_pixels(gl_window, draw, scenery) -> None:
    renderer = make_renderer(show_of(scenery, diffusion=0.6))
    first = draw(renderer, 0.4)
    draw(renderer, 0.7)
    assert np.array_equal(draw(renderer, 0.4), first)


def test_diffusion_moves_spheres_off_the_grid(gl_window, draw, scenery) -> None:
    still = draw(make_renderer(show_of(scenery, diffusion=0.0)), 0.5)
    wandering = draw(make_renderer(show_of(scenery, diffusion=0.8)), 0.5)
    assert np.abs(still.astype(int) - wandering.astype(int)).mean() > 10


def purple_share(frame: np.ndarray) -> float:
    visible = frame.sum(-1) > 60
    purple = (frame[..., 0] > 70) & (frame[..., 2] > 70)
    return float((purple & visible).sum() / max(visible.sum(), 1))


def test_colour_transport_moves_colour(gl_window, draw) -> None:
    frames = [halves(RED, BLUE), halves(BLUE, RED)]
    fading = draw(make_renderer(show_of(frames, Transport.GRID, diffusion=0.0)), 0.5)
    travelling = draw(make_renderer(show_of(frames, Transport.COLOR, diffusion=0.0)), 0.5)
    assert purple_share(fading) > 0.6  # in place, red turns blue through purple
    assert purple_share(travelling) < 0.1  # red spheres stay red and cross over
    occupied = lambda frame: float((frame[:, : SIZE[0] // 5].sum(-1) > 60).mean())  # noqa: E731
    assert occupied(fading) > 0.3 and occupied(travelling) < 0.02  # halfway across, the edges are empty


def test_hue_rotation_and_blackout(gl_window, draw, scenery) -> None:
    red = [np.full_like(scenery[0], 0) + np.array(RED, np.uint8)] * 2
    rotated = draw(make_renderer(show_of(red, hue=120.0)), None).astype(int)
    assert rotated[..., 1].mean() > rotated[..., 0].mean()
    black = draw(make_renderer(show_of(red, blackout=1.0)), None)
    assert black.max() <= 1
