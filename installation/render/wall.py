"""Where a tile sits on the wall's canvas, how its edges blend, and how its corners are pinned.

Every machine of a wall draws one ``View`` of one virtual canvas. A tile is its output's size
(``--window``); the canvas is the tiles side by side with the hidden strip of a display's bezel
between them, or overlapping by a projector's shared strip (``--overlap``). Over that strip each
projector's light ramps down as its neighbour's ramps up, along the one easing curve
(``curves.smoothstep``: s(t) + s(1 - t) = 1), raised to 1/gamma so the two lights add up to one
projector's once the projectors' gamma applies. The corner pin maps the tile onto the
quadrilateral that the projector's keystone needs. All of it is plain arithmetic, tested without
a GPU; ``render/finish.py`` applies it.
"""

from __future__ import annotations

import argparse
import functools
import re
from dataclasses import dataclass

import numpy as np

from installation.render.view import View
from installation.scene.parameters import CORNERS, ParameterValues

Corners = tuple[float, float, float, float, float, float, float, float]
"""x0,y0 .. x3,y3: where the picture's top-left, top-right, bottom-right and bottom-left corners
land on the output, as shares of its width and height from its top-left corner."""
SQUARE: Corners = (0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0)
"""Corners left where they are: no pin."""
MAX_GRID = 16
"""Columns or rows of a wall: more is a typing error, not a gallery."""
MIN_TURN = 1e-3
"""The least area (twice a triangle's, in shares of the output squared) at each corner of a pin."""
CORNER_REACH = (-1.0, 2.0)
"""How far a pinned corner may go, in shares of the output: past it is a typing error."""


@dataclass(frozen=True)
class WallLayout:
    """Tile ``tile`` (column, row; row 0 at the top) of a wall of ``grid`` tiles of ``tile_size``
    pixels, ``gap`` pixels apart (a bezel; negative: projectors overlapping by that much)."""

    grid: tuple[int, int] = (1, 1)
    tile: tuple[int, int] = (0, 0)
    tile_size: tuple[int, int] = (1280, 720)
    gap: int = 0

    def __post_init__(self) -> None:
        columns, rows = self.grid
        if not (0 <= self.tile[0] < columns and 0 <= self.tile[1] < rows):
            raise ValueError(f"tile {self.tile[0]},{self.tile[1]} is not on a {columns}x{rows} wall")
        if -self.gap * 2 > min(self.tile_size):
            raise ValueError(f"an overlap of {-self.gap} px is more than half of a {self.tile_size} tile")

    @property
    def overlap(self) -> int:
        return max(0, -self.gap)

    @property
    def canvas(self) -> tuple[int, int]:
        """The whole wall's picture in pixels: what a capture of the whole wall is drawn at."""
        (columns, rows), (width, height) = self.grid, self.tile_size
        return (columns * width + (columns - 1) * self.gap, rows * height + (rows - 1) * self.gap)

    @property
    def view(self) -> View:
        """This tile's rectangle of the canvas (GL's convention: from the bottom-left corner)."""
        (column, row), (width, height) = self.tile, self.tile_size
        top = row * (height + self.gap)
        return View(self.canvas, (column * (width + self.gap), self.canvas[1] - top - height, width, height))

    @property
    def blend_edges(self) -> tuple[int, int, int, int]:
        """Pixels of soft edge on the left, right, top and bottom: the overlap on every side that
        meets a neighbour."""
        (column, row), (columns, rows), overlap = self.tile, self.grid, self.overlap
        return (
            overlap if column > 0 else 0,
            overlap if column < columns - 1 else 0,
            overlap if row > 0 else 0,
            overlap if row < rows - 1 else 0,
        )

    def describe(self) -> str:
        columns, rows = self.grid
        strip = f"{self.gap} px bezels" if self.gap > 0 else f"{self.overlap} px overlaps" if self.gap else "no gaps"
        x, y, width, height = self.view.rect
        return (
            f"wall {columns}x{rows} of {self.tile_size[0]}x{self.tile_size[1]} tiles with {strip}: a canvas of "
            f"{self.canvas[0]}x{self.canvas[1]}; this machine shows tile {self.tile[0]},{self.tile[1]} "
            f"(x {x}..{x + width}, y {self.canvas[1] - y - height}..{self.canvas[1] - y} from the top)"
        )


def corners_of(values: ParameterValues) -> Corners:
    """The corner pin the ``corner_*`` parameters of ``values`` describe."""
    return tuple(getattr(values, name) for name in CORNERS)


@functools.lru_cache(maxsize=16)
def pin_matrix(corners: Corners) -> np.ndarray:
    """The 3x3 float32 matrix taking a point of the output (shares of its width and height from
    its top-left corner, homogeneous) to the point of the picture that shows there: the inverse
    of the projective map of the unit square onto ``corners``. Corners that leave the picture no
    area (three on a line) raise ``ValueError``; made once for each pin."""
    quad = np.array(corners, dtype=np.float64).reshape(4, 2)
    square = np.array([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])
    rows, right = [], []
    for (u, v), (x, y) in zip(square, quad, strict=True):
        rows.append([u, v, 1.0, 0.0, 0.0, 0.0, -u * x, -v * x])
        rows.append([0.0, 0.0, 0.0, u, v, 1.0, -u * y, -v * y])
        right += [x, y]
    if not _convex(quad):
        raise ValueError("the corners cross or three are (nearly) on one line: the picture would fold or vanish")
    try:
        h = np.linalg.solve(np.array(rows), np.array(right))
        forward = np.append(h, 1.0).reshape(3, 3)
        return np.ascontiguousarray(np.linalg.inv(forward), np.float32)
    except np.linalg.LinAlgError as error:
        raise ValueError("three of the corners are on one line: the picture would have no area") from error


def _convex(quad: np.ndarray) -> bool:
    """Whether the corners, in order, make a convex quadrilateral of some area: the triangle at
    each corner turns the same way and is not a sliver."""
    edges = [quad[(i + 1) % 4] - quad[i] for i in range(4)]
    turns = [float(a[0] * b[1] - a[1] * b[0]) for a, b in zip(edges, edges[1:] + edges[:1], strict=True)]
    return all(turn > MIN_TURN for turn in turns) or all(turn < -MIN_TURN for turn in turns)


def grid_type(text: str) -> tuple[int, int]:
    """``--wall COLSxROWS``: an argparse type."""
    match = re.fullmatch(r"\s*([0-9]{1,3})\s*[xX]\s*([0-9]{1,3})\s*", text)
    if match and all(1 <= int(side) <= MAX_GRID for side in match.groups()):
        return int(match[1]), int(match[2])
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a wall of 1 to {MAX_GRID} columns and rows; write it as COLSxROWS, e.g. 3x1"
    )


def tile_type(text: str) -> tuple[int, int]:
    """``--tile C,R``: an argparse type (checked against the wall by ``WallLayout``)."""
    match = re.fullmatch(r"\s*([0-9]{1,3})\s*,\s*([0-9]{1,3})\s*", text)
    if match:
        return int(match[1]), int(match[2])
    raise argparse.ArgumentTypeError(f"{text!r} is not a tile; write it as COLUMN,ROW counted from 0, e.g. 0,0")


def corners_type(text: str) -> Corners:
    """``--corners x0,y0,x1,y1,x2,y2,x3,y3``: an argparse type."""
    parts = text.split(",")
    low, high = CORNER_REACH
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) == 8 and all(low <= n <= high for n in numbers):
        corners: Corners = tuple(numbers)  # type: ignore[assignment]
        try:
            pin_matrix(corners)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"--corners {text}: {error}") from None
        return corners
    raise argparse.ArgumentTypeError(
        f"{text!r} is not 8 numbers from {low:g} to {high:g}: the top-left, top-right, bottom-right and "
        "bottom-left corners as x,y shares of the output, e.g. 0,0,1,0,1,1,0,1 (no pin)"
    )
