"""The offline loop: frame states drawn headless at the capture's size, through the frame loop.

Frame i is the show at time i / fps: the frame ``play --fixed-step FPS`` shows, fed the same
audio. Because every frame is a pure function of the pipeline's inputs, a range ``--frames A:B``
steps the pipeline to A without drawing (but for the frames its trails remember) and renders
from there, so ranges rendered apart join into the same video as one run. Rendering, readback
(pixel buffer objects) and encoding (ffmpeg, its own process) overlap. Captures, Ray chunks and
the presets' sheet all render here; the caller chooses the offscreen GL platform first
(``installation.render.platform.choose``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image, ImageOps

from installation import signals
from installation.paths import shaders_dir
from installation.render.framebuffer import Framebuffer
from installation.render.loop import FrameLoop, Readback
from installation.render.post import TRAILS_MEMORY
from installation.render.readback import PixelFormat
from installation.render.renderer import Renderer
from installation.render.window import PygameWindow
from installation.scene.pipeline import FramePipeline
from installation.scene.show import FrameState


class Sink(Protocol):
    frames: int

    def write(self, frame: bytes) -> None: ...

    def close(self, complete: bool = True) -> Path: ...

    def discard(self) -> None: ...


@dataclass(frozen=True)
class Plan:
    """Which frames to render (``first`` to ``stop`` - 1) out of the ``total`` of the whole capture."""

    first: int
    stop: int
    total: int

    @property
    def count(self) -> int:
        return self.stop - self.first


def render_frames(pipeline: FramePipeline, size: tuple[int, int], plan: Plan) -> Generator[bytes, None, None]:
    """Rendered frames (top row first) of ``plan``, read back through pixel buffer objects.

    The pipeline steps through every frame from 0, so sound envelopes and smoothing are the same
    as in a whole run; the frames before the plan are drawn only as far as its first frame's
    trails remember them.
    """
    window = PygameWindow((64, 64), vsync=False, hidden=True)
    try:
        loop = FrameLoop(Renderer(shaders_dir()), Framebuffer(size))
        ready: deque[bytes] = deque()
        loop.add(Readback(PixelFormat.RGB, lossless=True)).add(_Collected(ready))
        try:
            for state, shown in planned_states(pipeline, plan):
                loop.draw(state, shown)
                while ready:
                    yield ready.popleft()
        finally:
            loop.close()  # the frames still in flight join ``ready``
        yield from ready
    finally:
        pipeline.sound.close()
        window.close()


def planned_states(pipeline: FramePipeline, plan: Plan) -> Iterator[tuple[FrameState, bool]]:
    """The states to draw for ``plan``, each with whether it is one of the plan's frames.

    Before the plan's first frame come the frames its trails would remember in one run: back to
    the last frame without trails (whose output owes nothing to the past), at most
    ``TRAILS_MEMORY``. Drawing them is what makes a range join its neighbours byte for byte.
    """
    remembered: deque[FrameState] = deque(maxlen=TRAILS_MEMORY)
    for index in range(plan.stop):
        state = pipeline.step()
        if index >= plan.first:
            if index == plan.first and state.values.trails > 0.0:
                yield from ((past, False) for past in remembered)
            yield state, True
            continue
        if signals.stop_requested():  # a long fast-forward draws nothing to stop between
            raise signals.Stopped()
        if state.values.trails <= 0.0:
            remembered.clear()
        remembered.append(state)


class _Collected:
    """A pixel output that keeps the frames for the generator to hand on, in order."""

    def __init__(self, frames: deque[bytes]) -> None:
        self.frames = frames

    def write(self, frame: bytes) -> None:
        self.frames.append(frame)


def morph_length(keyframes: int, in_betweens: int) -> int:
    """Frames of the plain morph: each pair's first keyframe and its in-betweens, then the last."""
    return (keyframes - 1) * (in_betweens + 1) + 1


def morph_frame(keyframes: list[np.ndarray], in_betweens: int, index: int) -> np.ndarray:
    """Frame ``index`` of the source piece's plain morph: keyframes cross-faded in even steps."""
    pair, step = divmod(index, in_betweens + 1)
    if pair >= len(keyframes) - 1:
        return keyframes[-1]
    t = step / (in_betweens + 1)
    a, b = keyframes[pair].astype(np.float32), keyframes[pair + 1].astype(np.float32)
    return np.rint(a + (b - a) * t).astype(np.uint8)


def fit_keyframe(frame: np.ndarray, size: tuple[int, int]) -> bytes:
    """A keyframe letterboxed into the output size, as the renderer would place it."""
    image = ImageOps.pad(Image.fromarray(frame), size, Image.Resampling.LANCZOS, color=(0, 0, 0))
    return image.tobytes()
