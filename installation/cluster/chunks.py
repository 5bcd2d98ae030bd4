"""How a capture is cut into Ray tasks: ranges of frames of about 30 seconds of work each.

A chunk pays for one task's start, one pipeline fast-forward and one ffmpeg process; 30 s makes
that a few percent, while a lost task costs at most 30 s again and the progress bar still moves.
"""

from __future__ import annotations

from installation.render.offline import Plan

SECONDS_PER_CHUNK = 30.0
PIXELS_PER_SECOND = 30e6
"""Pixels a 2-core software renderer renders and encodes per second (README, Capture: 1080p at
13.9 fps, 4K at 4.1 fps). A GPU node is faster, so its chunks take less than 30 s: still long
next to a task's start."""


def frames_per_chunk(size: tuple[int, int]) -> int:
    """Frames of about ``SECONDS_PER_CHUNK`` of work at this frame size."""
    return max(1, round(SECONDS_PER_CHUNK * PIXELS_PER_SECOND / (size[0] * size[1])))


def split(plan: Plan, frames: int) -> list[Plan]:
    """``plan`` as consecutive ranges of at most ``frames`` frames, in order."""
    return [Plan(first, min(first + frames, plan.stop), plan.total) for first in range(plan.first, plan.stop, frames)]
