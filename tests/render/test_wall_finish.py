"""A wall tile's finish on a real GL (Mesa llvmpipe): soft edges whose light adds up flat across
the projectors' overlap, corner pins that put the picture's corners where they are asked, and
tiles with bezels that are the crops of one render of the whole canvas."""

from __future__ import annotations

import numpy as np
import pytest
from OpenGL import GL

from installation.paths import shaders_dir
from installation.render.finish import TileFinish
from installation.render.framebuffer import Framebuffer
from installation.render.view import View
from installation.render.wall import WallLayout
from installation.scene.parameters import CORNERS, ParameterValues
from tests.render.test_view import drawn, moving

TILE = (160, 96)
GREY = 0.8


def finished(layout: WallLayout, values: ParameterValues, quadrants: bool = False) -> np.ndarray:
    """The finish of a tile filled with flat grey (or four coloured quadrants), read back."""
    source = Framebuffer(layout.tile_size)
    source.bind()
    GL.glViewport(0, 0, *layout.tile_size)
    GL.glClearColor(GREY, GREY, GREY, 1.0)
    GL.glClear(GL.GL_COLOR_BUFFER_BIT)
    if quadrants:
        width, height = layout.tile_size
        GL.glEnable(GL.GL_SCISSOR_TEST)
        for (x, y), colour in zip([(0, height // 2), (width // 2, 0)], [(1, 0, 0), (0, 0, 1)], strict=True):
            GL.glScissor(x, y, width // 2, height // 2)  # the top-left red, the bottom-right blue
            GL.glClearColor(*colour, 1.0)
            GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        GL.glDisable(GL.GL_SCISSOR_TEST)
    finish = TileFinish(shaders_dir(), layout)
    output = finish.apply(source, values)
    pixels = output.read().astype(float)
    finish.delete()
    source.delete()
    return pixels


@pytest.mark.parametrize("gamma", [1.0, 2.2, 2.6])
def test_the_light_of_two_overlapping_projectors_adds_up_flat(gl_window, gamma: float) -> None:
    overlap = 48
    values = ParameterValues(blend_gamma=gamma)
    left, right = (finished(WallLayout((2, 1), (c, 0), TILE, -overlap), values) for c in range(2))
    light = (left[:, -overlap:, 0] / 255) ** gamma + (right[:, :overlap, 0] / 255) ** gamma
    alone = GREY**gamma
    assert np.abs(light / alone - 1).max() < 0.02
    assert left[:, -overlap // 2, 0].mean() < 0.9 * 255 * GREY  # the ramp is there: neither one lights it alone
    assert np.abs(left[:, : TILE[0] - overlap, 0] - round(255 * GREY)).max() <= 1  # and only over the overlap


def test_a_corner_pin_puts_the_pictures_corners_where_asked(gl_window) -> None:
    corners = (0.25, 0.25, 0.75, 0.25, 0.75, 0.75, 0.25, 0.75)  # the picture shrunk into the middle
    values = ParameterValues(**dict(zip(CORNERS, corners, strict=True)))
    pixels = finished(WallLayout(tile_size=TILE), values, quadrants=True)
    width, height = TILE
    assert pixels[: height // 4 - 1].max() == 0 and pixels[:, : width // 4 - 1].max() == 0  # outside: black
    top_left = pixels[height // 4 + 2, width // 4 + 2]
    bottom_right = pixels[3 * height // 4 - 3, 3 * width // 4 - 3]
    assert tuple(top_left) == (255, 0, 0) and tuple(bottom_right) == (0, 0, 255)


def test_a_tile_with_nothing_to_finish_is_drawn_as_it_is(gl_window) -> None:
    source = Framebuffer(TILE)
    finish = TileFinish(shaders_dir(), WallLayout((2, 1), (0, 0), TILE, gap=30))
    assert finish.apply(source, ParameterValues()) is source
    source.delete()


def test_tiles_with_bezels_are_the_crops_of_the_whole_canvas(gl_window) -> None:
    layouts = [WallLayout((2, 1), (c, 0), TILE, gap=24) for c in range(2)]
    canvas = layouts[0].canvas
    state = moving(canvas, ParameterValues(diffusion=0.5, follow=0.0, glow=1.0), 0.4)
    whole = drawn([state], View.whole(canvas))
    for layout in layouts:
        x, y, width, height = layout.view.rect
        top = canvas[1] - y - height
        difference = np.abs(drawn([state], layout.view) - whole[top : top + height, x : x + width]).max(axis=-1)
        assert (difference > 2).sum() <= 4, layout.tile
    hidden = whole[:, TILE[0] : TILE[0] + 24]
    assert hidden.max() > 0  # the bezel hides a strip of the picture: the tiles skip it, they do not squeeze it


def test_corners_moved_into_a_line_keep_the_last_pin_and_the_show_goes_on(gl_window, caplog) -> None:
    source = Framebuffer(TILE)
    finish = TileFinish(shaders_dir(), WallLayout(tile_size=TILE))
    pinned = dict(zip(CORNERS, (0.25, 0.25, 0.75, 0.25, 0.75, 0.75, 0.25, 0.75), strict=True))
    first = finish.apply(source, ParameterValues(**pinned)).read()
    flat = dict(zip(CORNERS, (0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 0.25, 0.75), strict=True))  # three on a line
    again = finish.apply(source, ParameterValues(**flat)).read()
    assert np.array_equal(first, again)
    assert sum("leaves the picture no area" in r.getMessage() for r in caplog.records) == 1
    finish.delete()
    source.delete()
