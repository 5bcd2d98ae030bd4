"""The contact sheet: every frame of a sequence as a labelled thumbnail on one picture."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw, ImageFont

from installation.keyframes.sequence import KeyframeSequence

_THUMB_WIDTH = 480
_GAP = 8
_LABEL = 26


def contact_sheet(sequence: KeyframeSequence) -> Image.Image:
    """Thumbnails in reading order, each captioned with its step ("photo", "step 12/37" ...)."""
    manifest = sequence.manifest
    count = len(sequence.frames)
    columns = min(count, max(1, math.ceil(math.sqrt(count * manifest.height / manifest.width))))
    rows = math.ceil(count / columns)
    thumb_w = min(_THUMB_WIDTH, manifest.width)
    thumb_h = max(1, round(thumb_w * manifest.height / manifest.width))
    cell_h = thumb_h + _LABEL
    sheet = Image.new("RGB", (columns * (thumb_w + _GAP) + _GAP, rows * (cell_h + _GAP) + _GAP), (18, 18, 22))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=18)
    for index, (frame, pixels) in enumerate(zip(manifest.frames, sequence.frames, strict=True)):
        left = _GAP + (index % columns) * (thumb_w + _GAP)
        top = _GAP + (index // columns) * (cell_h + _GAP)
        thumbnail = Image.fromarray(pixels).resize((thumb_w, thumb_h), Image.Resampling.LANCZOS)
        sheet.paste(thumbnail, (left, top))
        caption = f"{index:03d}  {frame.label(manifest.steps_executed)}"
        draw.text((left + 4, top + thumb_h + 3), caption, fill=(225, 225, 230), font=font)
    return sheet
