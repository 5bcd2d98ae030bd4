"""Views of a canvas: tiles drawn on their own are the crops of the whole canvas (a video wall)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from installation.keyframes.demo import alpine_scene
from installation.keyframes.images import to_uint8
from installation.render.framebuffer import Framebuffer
from installation.render.view import View
from installation.scene.parameters import ParameterValues
from installation.scene.show import FrameState, Show, transition_frame
from installation.scene.stage import prepare_stage
from tests.helpers import sequence_of
from tests.render.conftest import make_renderer

LOOKS = {
    "bare": ParameterValues(diffusion=0.5, follow=0.0),
    "every pass": ParameterValues(diffusion=0.5, follow=0.0, glow=1.5, defocus=1.0, trails=0.8, cover=0.3),
}


def moving(canvas: tuple[int, int], values: ParameterValues, progress: float) -> FrameState:
    scene = to_uint8(alpine_scene(*canvas))
    stage = prepare_stage(sequence_of([scene, np.ascontiguousarray(scene[::-1])]), 48)
    return transition_frame(stage, 0, 1, progress, values)


def drawn(states: list[FrameState], view: View) -> np.ndarray:
    """The last of ``states`` drawn into ``view``'s target, after the ones before it (trails)."""
    rig, target = make_renderer(Show(states[0].stage)), Framebuffer(view.size)
    for state in states:
        target.bind()
        rig.renderer.draw(state, view)
    pixels = target.read().astype(int)
    target.delete()
    return pixels


@pytest.mark.parametrize("look", LOOKS)
@pytest.mark.parametrize("canvas", [(320, 192), (330, 190)])
def test_four_tiles_are_the_crops_of_the_whole_canvas(gl_window, look: str, canvas: tuple[int, int]) -> None:
    states = [dataclasses.replace(moving(canvas, LOOKS[look], 0.3 + 0.05 * i), time=i / 30) for i in range(3)]
    whole = drawn(states, View.whole(canvas))
    for row in range(2):
        for column in range(2):
            tile = View.tile(canvas, (2, 2), column, row)
            x, y, width, height = tile.rect
            top = canvas[1] - y - height
            crop = whole[top : top + height, x : x + width]
            difference = np.abs(drawn(states, tile) - crop).max(axis=-1)
            # Rasterised in another viewport, a sphere's outline can round by a level; where the
            # depth of field reads a pixel that one draw covered and the other did not, the blur
            # differs a little more: a handful of pixels of the four tiles' 61,440.
            assert (difference > 2).sum() <= 4 and difference.max() <= 8, (column, row)


def test_a_sphere_on_a_tiles_edge_shows_on_both_tiles(gl_window) -> None:
    canvas = (320, 192)
    state = moving(canvas, ParameterValues(diffusion=0.0, backdrop=0.0, size=1.5), 0.5)
    left, right = (drawn([state], View.tile(canvas, (2, 1), column, 0)) for column in (0, 1))
    assert left[:, -1].mean() > 20 and right[:, 0].mean() > 20  # the spheres at the seam are lit on both sides


def test_tiles_cut_the_canvas_without_gaps() -> None:
    canvas = (1001, 333)
    tiles = [View.tile(canvas, (3, 2), c, r) for r in range(2) for c in range(3)]
    assert sum(t.rect[2] * t.rect[3] for t in tiles) == canvas[0] * canvas[1]
    assert View.tile(canvas, (3, 2), 0, 0).rect == (0, 167, 333, 166)  # row 0 is the top row
    assert View.tile(canvas, (3, 2), 2, 1).rect == (667, 0, 334, 167)


def test_a_view_grows_within_its_canvas_on_an_aligned_corner() -> None:
    view = View((320, 192), (163, 10, 100, 50))
    assert view.grown(48, 4).rect == (112, 0, 163 + 100 + 48 - 112, 108)
    with pytest.raises(ValueError, match="not inside"):
        View((320, 192), (300, 0, 40, 10))
