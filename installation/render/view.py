"""A view: the rectangle of a virtual canvas that one target shows.

A single screen shows the whole canvas; a tile of a video wall shows its part of a larger one.
Everything the renderer lays out (the keyframes, the sphere field, the post passes' blur radii)
is measured on the canvas, so tiles drawn apart fit together as one picture. Rectangles here are
in GL's convention, counted in canvas pixels from the bottom-left corner, the way the viewport
and the framebuffers count.
"""

from __future__ import annotations

from dataclasses import dataclass

Rect = tuple[int, int, int, int]
"""x, y, width, height in pixels, from the bottom-left corner."""


@dataclass(frozen=True)
class View:
    """The part ``rect`` of a canvas of ``canvas`` pixels, drawn into a target of the rect's size."""

    canvas: tuple[int, int]
    rect: Rect

    def __post_init__(self) -> None:
        x, y, width, height = self.rect
        if width < 1 or height < 1 or x < 0 or y < 0 or x + width > self.canvas[0] or y + height > self.canvas[1]:
            raise ValueError(f"the rectangle {self.rect} is not inside the {self.canvas[0]}x{self.canvas[1]} canvas")

    @classmethod
    def whole(cls, size: tuple[int, int]) -> View:
        """The whole canvas of ``size``: a single screen or a capture."""
        return cls(size, (0, 0, *size))

    @classmethod
    def tile(cls, canvas: tuple[int, int], grid: tuple[int, int], column: int, row: int) -> View:
        """Tile (``column``, ``row``) of a canvas cut into ``grid`` (columns, rows), row 0 at the top."""
        columns, rows = grid
        left, right = canvas[0] * column // columns, canvas[0] * (column + 1) // columns
        top, bottom = canvas[1] * row // rows, canvas[1] * (row + 1) // rows
        return cls(canvas, (left, canvas[1] - bottom, right - left, bottom - top))

    @property
    def size(self) -> tuple[int, int]:
        """The target's size: the rect's."""
        return (self.rect[2], self.rect[3])

    @property
    def is_whole(self) -> bool:
        return self.rect == (0, 0, *self.canvas)

    def grown(self, margin: int, align: int = 1) -> View:
        """This view with ``margin`` more canvas on every side (as far as the canvas goes), its
        corner on a multiple of ``align``: what a post pass reaching ``margin`` pixels must draw
        so that this view's pixels are those of the whole canvas."""
        x, y, width, height = self.rect
        left, bottom = max(0, x - margin) // align * align, max(0, y - margin) // align * align
        right, top = min(self.canvas[0], x + width + margin), min(self.canvas[1], y + height + margin)
        return View(self.canvas, (left, bottom, right - left, top - bottom))

    def within(self, outer: View) -> Rect:
        """Where this view lies in the target of ``outer``, a view that contains it."""
        x, y, width, height = self.rect
        return (x - outer.rect[0], y - outer.rect[1], width, height)

    def place(self, rect: Rect) -> Rect:
        """A rectangle of the canvas in this view's target's pixels (it may reach past its edges)."""
        return (rect[0] - self.rect[0], rect[1] - self.rect[1], rect[2], rect[3])
