"""A wall's layout without a GPU: the canvas, each tile's rectangle, soft edges, corner pins and
the options that describe them, absurd values included."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

from installation.render.wall import SQUARE, WallLayout, corners_type, grid_type, pin_matrix, tile_type


def test_bezels_hide_a_strip_of_canvas_between_tiles() -> None:
    layouts = [WallLayout((2, 2), (c, r), (400, 300), gap=20) for r in range(2) for c in range(2)]
    assert layouts[0].canvas == (820, 620)
    # GL counts from the bottom: row 0 (the top row) starts 300 + 20 pixels above the bottom row
    assert [layout.view.rect for layout in layouts] == [
        (0, 320, 400, 300),
        (420, 320, 400, 300),
        (0, 0, 400, 300),
        (420, 0, 400, 300),
    ]
    assert not any(any(layout.blend_edges) for layout in layouts)


def test_projectors_share_their_overlap_and_soften_only_the_inner_edges() -> None:
    left, middle, right = (WallLayout((3, 1), (c, 0), (1920, 1080), gap=-240) for c in range(3))
    assert left.canvas == (3 * 1920 - 2 * 240, 1080)
    assert [t.view.rect[0] for t in (left, middle, right)] == [0, 1680, 3360]
    assert (left.blend_edges, middle.blend_edges, right.blend_edges) == (
        (0, 240, 0, 0),
        (240, 240, 0, 0),
        (240, 0, 0, 0),
    )


def test_a_tile_off_the_wall_or_an_overlap_past_half_a_tile_is_refused() -> None:
    with pytest.raises(ValueError, match="tile 2,0 is not on a 2x1 wall"):
        WallLayout((2, 1), (2, 0), (320, 180))
    with pytest.raises(ValueError, match="more than half"):
        WallLayout((2, 1), (0, 0), (320, 180), gap=-91)


def test_the_pin_takes_each_pinned_corner_back_to_the_pictures_corner() -> None:
    corners = (0.1, 0.05, 0.95, 0.0, 0.9, 1.0, 0.0, 0.85)
    pin = pin_matrix(corners)
    for (x, y), expected in zip(np.reshape(corners, (4, 2)), [(0, 0), (1, 0), (1, 1), (0, 1)], strict=True):
        u, v, w = pin @ (x, y, 1.0)
        assert (u / w, v / w) == pytest.approx(expected, abs=1e-6)
    assert np.allclose(pin_matrix(SQUARE), np.eye(3))


@pytest.mark.parametrize(
    "text",
    ["", "3", "0x1", "17x1", "3x-1", "1e3x1", "3x1x2", "３x1", "9" * 400 + "x1", "nanxnan"],
)
def test_absurd_walls_are_refused_in_one_sentence(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="COLSxROWS"):
        grid_type(text)


@pytest.mark.parametrize("text", ["", "1", "-1,0", "a,b", "1,2,3", "1.5,0", "9" * 400 + ",0"])
def test_absurd_tiles_are_refused_in_one_sentence(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="COLUMN,ROW"):
        tile_type(text)


@pytest.mark.parametrize(
    "text",
    [
        "0,0,1,0,1,1,0",
        "0,0,1,0,1,1,0,1,0",
        "nan,0,1,0,1,1,0,1",
        "inf,0,1,0,1,1,0,1",
        "0,0,1,0,1,1,0,1e308",
        "0,0,1,0,1,1,0,-5",
        "a,b,c,d,e,f,g,h",
    ],
)
def test_absurd_corner_pins_are_refused_in_one_sentence(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="is not 8 numbers from -1 to 2"):
        corners_type(text)


def test_corners_that_leave_the_picture_no_area_are_refused() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="the picture would fold or vanish"):
        corners_type("0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5")


def test_a_keystone_within_reach_is_taken() -> None:
    corners = corners_type("0.02, 0, 0.98, 0.03, 1, 1, 0, 0.97")
    assert corners[0] == 0.02 and all(math.isfinite(c) for c in corners)


@pytest.mark.parametrize(
    "corners",
    [(0.1, 0.1, 0.7, 0.1, 1.3, 0.1, 0.1, 1.0), (0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0)],
    ids=["nearly on one line", "crossed"],
)
def test_a_pin_that_would_fold_or_flatten_the_picture_is_refused(corners) -> None:
    with pytest.raises(ValueError, match="fold or vanish"):
        pin_matrix(corners)
