"""The test card of ``metamorph wall-test``: a picture of the whole canvas for lining a wall up.

It shows a grid of squares and circles that run on across the tiles (a circle that is an ellipse
on one tile, or a line that steps at a seam, says which output is off), each tile's number and
outline, the projectors' shared strips (the soft edges of the finish apply over them) and the
displays' hidden strips. It is made from the wall's layout alone, never from the tile, and saved
with a fixed manifest, so that a leader and its followers make the very same card (its hash is
what a follower checks) and ``--leader`` works for lining up too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from installation.keyframes.sequence import Frame, Manifest, save_sequence
from installation.paths import keyframes_dir
from installation.render.wall import WallLayout

CARD_FOLDER = "wall-test"
_BACKGROUND = (24, 24, 28)
_GRID = (200, 200, 200)
_TILE_COLOURS = [(230, 80, 80), (80, 200, 90), (90, 140, 240), (230, 200, 70), (200, 90, 220), (70, 210, 210)]


def card_picture(layout: WallLayout) -> np.ndarray:
    """The card at the canvas's size, height x width x 3, 8-bit."""
    width, height = layout.canvas
    card = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(card)
    step = max(8, height // 8)
    for x in range(0, width, step):
        draw.line([(x, 0), (x, height)], fill=_GRID, width=max(1, step // 60))
    for y in range(0, height, step):
        draw.line([(0, y), (width, y)], fill=_GRID, width=max(1, step // 60))
    draw.line([(0, 0), (width, height)], fill=_GRID, width=max(1, step // 40))
    draw.line([(0, height), (width, 0)], fill=_GRID, width=max(1, step // 40))
    radius = height * 0.45
    draw.ellipse(
        [width / 2 - radius, height / 2 - radius, width / 2 + radius, height / 2 + radius], outline=_GRID, width=3
    )
    columns, rows = layout.grid
    font = ImageFont.load_default(size=max(12, layout.tile_size[1] // 5))
    for row in range(rows):
        for column in range(columns):
            _tile(draw, WallLayout(layout.grid, (column, row), layout.tile_size, layout.gap), font)
    return np.asarray(card)


def _tile(draw: ImageDraw.ImageDraw, tile: WallLayout, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> None:
    """One tile's outline, strips and number (its rectangle from the top-left corner)."""
    x, y_gl, width, height = tile.view.rect
    top = tile.canvas[1] - y_gl - height
    colour = _TILE_COLOURS[(tile.tile[0] + tile.tile[1] * tile.grid[0]) % len(_TILE_COLOURS)]
    left, right, above, below = tile.blend_edges
    shade = tuple(c // 3 for c in colour)
    for box in (
        (x, top, x + left, top + height),
        (x + width - right, top, x + width, top + height),
        (x, top, x + width, top + above),
        (x, top + height - below, x + width, top + height),
    ):
        if box[2] > box[0] and box[3] > box[1]:
            draw.rectangle(box, outline=colour, fill=shade)
    draw.rectangle((x, top, x + width - 1, top + height - 1), outline=colour, width=max(2, height // 100))
    label = f"{tile.tile[0]},{tile.tile[1]}"
    draw.text((x + width / 2, top + height / 2), label, fill=colour, font=font, anchor="mm")


def card_sequence(layout: WallLayout) -> Path:
    """The card saved as a sequence of two equal keyframes in the keyframes folder (made again
    for each layout), its manifest the same on every machine with the same wall."""
    frame = card_picture(layout)
    height, width = frame.shape[:2]
    manifest = Manifest(
        backend="test-card",
        model="none",
        prompt=f"wall test card {layout.grid[0]}x{layout.grid[1]}, {layout.tile_size[0]}x{layout.tile_size[1]} tiles, gap {layout.gap}",
        negative_prompt="",
        seed=0,
        strength=0.0,
        scheduler="none",
        guidance=None,
        steps=1,
        steps_executed=1,
        capture_mode="x0",
        width=width,
        height=height,
        frames=(Frame("000.png", "photo"), Frame("001.png", "final")),
        source=None,
        created="",
        package_version="",
    )
    folder = keyframes_dir() / CARD_FOLDER
    save_sequence(folder, manifest, [frame, frame])
    return folder
