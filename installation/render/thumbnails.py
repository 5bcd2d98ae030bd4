"""A sheet of the presets: one row per preset, frames of one transition, drawn by capture's pipeline.

Each row is what ``metamorph capture --preset NAME`` writes for that transition (the same show,
fixed clock and renderer), so the sheet shows the looks as a capture or a show would.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from installation.files import save_picture
from installation.render.offline import Plan, render_frames
from installation.scene.clock import FixedClock
from installation.scene.pipeline import FramePipeline
from installation.scene.presets import load_preset
from installation.scene.show import Show
from installation.scene.stage import Stage, transition_seconds

FRAME = (256, 144)
COLUMNS = 6
_FPS = 10.0
_HOLD = 0.5
_LABEL = 96


def busiest_pair(stage: Stage) -> int:
    """The keyframe whose move to the next changes the picture most: the transition worth showing."""
    if stage.count < 2:
        return 0
    return max(range(stage.count - 1), key=lambda index: stage.pair(index, index + 1).change)


def transition_strip(stage: Stage, preset: str, start: int, size: tuple[int, int] = FRAME) -> list[np.ndarray]:
    """``COLUMNS`` frames evenly through the transition from keyframe ``start``, under ``preset``."""
    show = Show(stage, start=start)
    for name, value in {**load_preset(preset).values, "hold": _HOLD}.items():
        show.parameters.set(name, value, immediate=True)
    values = show.parameters.values()
    seconds = transition_seconds(values.duration, values.duration_min, stage.pace(start, start + 1), values.follow)
    wanted = [round((_HOLD + seconds * column / (COLUMNS - 1)) * _FPS) for column in range(COLUMNS)]
    pipeline = FramePipeline(show, FixedClock(_FPS))
    plan = Plan(0, wanted[-1] + 1, wanted[-1] + 1)
    frames = [
        np.frombuffer(frame, np.uint8).reshape(size[1], size[0], 3) for frame in render_frames(pipeline, size, plan)
    ]
    return [frames[index] for index in wanted]


def save_sheet(stage: Stage, presets: list[str], path: Path, replace: bool = False) -> None:
    """Write the sheet of ``presets`` (names or files) to ``path`` (JPEG or PNG by its suffix),
    replacing a file there only when ``replace``."""
    start = busiest_pair(stage)
    width, height = FRAME
    sheet = Image.new("RGB", (_LABEL + COLUMNS * width, len(presets) * height), (16, 16, 20))
    draw = ImageDraw.Draw(sheet)
    for row, preset in enumerate(presets):
        for column, frame in enumerate(transition_strip(stage, preset, start)):
            sheet.paste(Image.fromarray(frame), (_LABEL + column * width, row * height))
        draw.text((10, row * height + height // 2 - 6), load_preset(preset).name, fill=(235, 235, 240))
    save_picture(sheet, path, replace, quality=88)
