"""A picture of a TouchOSC layout, drawn from the written file parsed back (not from the plan),
so what a user sees before loading it is what TouchOSC will read."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from installation.control.touchosc import PAGE_H, PAGE_W, TAB_BAR, Element, read_layout
from installation.files import save_picture

_FILL = {
    "fader": (120, 70, 190),
    "toggle": (200, 60, 60),
    "push": (70, 170, 80),
    "xy": (60, 120, 210),
    "label": (40, 40, 40),
    "value": (90, 80, 30),
}
_ARROW = {"right": (1, 0), "left": (-1, 0), "up": (0, -1), "down": (0, 1)}


def draw_preview(layout: Path, out: Path, replace: bool = False) -> int:
    """Draw every page of ``layout`` one under the other into the PNG ``out`` (replacing a file
    there only when ``replace``); the page count."""
    elements = read_layout(layout)
    pages = max((e.page for e in elements), default=0) + 1
    image = Image.new("RGB", (PAGE_W, PAGE_H * pages), (16, 16, 20))
    draw = ImageDraw.Draw(image)
    for page in range(pages):
        top = page * PAGE_H
        draw.rectangle((0, top, PAGE_W - 1, top + TAB_BAR - 1), fill=(60, 60, 66))
        draw.text((12, top + 14), f"page {page + 1} of {pages}   {layout.name}", fill=(230, 230, 230))
        for element in (e for e in elements if e.page == page):
            _draw(draw, element, top + TAB_BAR)
    save_picture(image, out, replace)
    return pages


def _draw(draw: ImageDraw.ImageDraw, element: Element, top: int) -> None:
    box = (element.x, top + element.y, element.x + element.w - 1, top + element.y + element.h - 1)
    draw.rounded_rectangle(box, radius=6, fill=_FILL.get(element.kind, (80, 80, 80)), outline=(220, 220, 220))
    words = element.text or (element.address if element.kind != "label" else "")
    draw.text((box[0] + 6, box[1] + 8), words[:18], fill=(255, 255, 255))
    if element.kind == "xy":
        _axes(draw, element, box)


def _axes(draw: ImageDraw.ImageDraw, element: Element, box: tuple[int, int, int, int]) -> None:
    """Arrows from the pad's centre: the direction each value of its message grows."""
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    for number, direction in enumerate(element.axes):
        dx, dy = _ARROW[direction]
        end = (cx + dx * element.w // 3, cy + dy * element.h // 3)
        draw.line((cx, cy, *end), fill=(255, 255, 255), width=3)
        draw.text((end[0] + 4, end[1] - 12), f"arg {number + 1}", fill=(255, 255, 255))
