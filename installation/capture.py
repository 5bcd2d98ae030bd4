"""The offline loop: the live loop's scene and renderer, headless, one fixed time step per frame.

Frame i shows the show at time i / fps, the frame the live loop shows at that time with the same
inputs. Because a frame is a pure function of that time, a range ``--frames A:B`` fast-forwards
the scene (no drawing) to A and renders from there, so ranges rendered apart join into the same
video as one run. Rendering, readback (pixel buffer objects) and encoding (ffmpeg, its own
process) overlap.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from installation.control.analysis import SoundAnalysis
from installation.control.audio import MusicFile
from installation.errors import UserError
from installation.scene.modulation import SILENCE
from installation.scene.show import FrameState, Show, ShowOptions, open_show

# Capture never opens a window: pygame's offscreen driver gives OpenGL on EGL, display or not.
# This must be decided before installation.render (and so OpenGL) is first imported.
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")

from installation.paths import shaders_dir  # noqa: E402
from installation.render.framebuffer import Framebuffer  # noqa: E402
from installation.render.readback import PixelReader  # noqa: E402
from installation.render.renderer import Renderer  # noqa: E402
from installation.render.video import (  # noqa: E402
    CODECS,
    DEFAULT_PRESET,
    PRESETS,
    VIDEO_SUFFIXES,
    FrameFolder,
    VideoWriter,
    check_codec,
    concat,
    probe_audio,
)
from installation.render.window import PygameWindow  # noqa: E402

log = logging.getLogger(__name__)
DEFAULT_IN_BETWEENS = 30


@dataclass
class CaptureOptions:
    """What ``metamorph capture`` was asked for."""

    out: Path
    show: ShowOptions = field(default_factory=ShowOptions)
    size: tuple[int, int] = (3840, 2160)
    fps: float = 60.0
    seconds: float | None = None
    frames: tuple[int, int] | None = None
    audio: Path | None = None
    codec: str = "h264"
    quality: int = 80
    preset: str = DEFAULT_PRESET
    force: bool = False
    mode: str = "spheres"
    in_betweens: int = DEFAULT_IN_BETWEENS
    quiet: bool = False


class Sink(Protocol):
    frames: int

    def write(self, frame: bytes) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Plan:
    """Which frames to render (``first`` to ``stop`` - 1) out of the ``total`` of the whole capture."""

    first: int
    stop: int
    total: int

    @property
    def count(self) -> int:
        return self.stop - self.first


def capture(options: CaptureOptions) -> int:
    """Render ``options`` to a video or a PNG folder; return the number of frames written."""
    _check_options(options)
    music_seconds = probe_audio(options.audio) if options.audio else None
    show = open_show(options.show)
    if options.mode == "morph":
        keyframes = show.sequence.frames
        plan = _plan(options, morph_length(len(keyframes), options.in_betweens) / options.fps, music_seconds)
        sink = open_sink(options, plan, bottom_up=False)
        frames = (_fit(morph_frame(keyframes, options.in_betweens, i), options.size) for i in range(plan.first, plan.stop))
        return _write_all(sink, frames, plan, options)
    plan = _plan(options, show.pass_seconds(), music_seconds)
    music = MusicFile(options.audio, options.fps) if options.audio else None
    sink = open_sink(options, plan, bottom_up=True)
    return _write_all(sink, render_frames(show, options, plan, music), plan, options)


def _check_options(options: CaptureOptions) -> None:
    if options.fps <= 0 or options.fps > 240:
        raise UserError(f"--fps {options.fps:g} is outside 1..240; use 60 or 30.")
    if not 1 <= options.quality <= 100:
        raise UserError(f"--quality {options.quality} is outside 1..100; use 80 for a good balance.")
    if min(options.size) < 16:
        raise UserError(f"--size {options.size[0]}x{options.size[1]} is too small; use at least 16x16.")
    if options.in_betweens < 0:
        raise UserError(f"--in-betweens {options.in_betweens} must be 0 or more.")
    if options.preset not in PRESETS:
        raise UserError(f"--preset {options.preset} is unknown; choose one of {', '.join(PRESETS)}.")
    if options.codec not in CODECS:
        raise UserError(f"--codec {options.codec} is unknown; choose one of {', '.join(CODECS)}.")
    out = options.out
    video = out.suffix.lower() in VIDEO_SUFFIXES
    if out.suffix and not video:
        raise UserError(f"The output {out} is neither a video ({', '.join(VIDEO_SUFFIXES)}) nor a folder; name it .mp4, .mov, .mkv or a folder.")
    if video:
        check_codec(CODECS[options.codec], out, options.size)
        if out.exists() and not options.force:
            raise UserError(f"The output {out} exists; choose another --out or add --force to replace it.")
    elif out.is_dir() and any(out.iterdir()) and not options.force:
        raise UserError(f"The output folder {out} is not empty; choose another --out or add --force to replace it.")
    if not video and options.audio:
        raise UserError("--audio needs a video output; name --out FILE.mp4 (PNG frames carry no sound).")


def _plan(options: CaptureOptions, natural_seconds: float, music_seconds: float | None) -> Plan:
    """Frames to render: --seconds, else the music's length, else one pass of the show."""
    seconds = options.seconds or music_seconds or natural_seconds
    if math.isinf(seconds):
        raise UserError("At --speed 0 the show never moves, so it has no length; give --seconds.")
    total = max(1, round(seconds * options.fps))
    if options.frames is None:
        return Plan(0, total, total)
    first, stop = options.frames
    if not 0 <= first < stop <= total:
        raise UserError(
            f"--frames {first}:{stop} is outside the {total} frames of this capture ({seconds:.2f} s at "
            f"{options.fps:g} fps); give a range within 0:{total}, or a longer --seconds."
        )
    return Plan(first, stop, total)


def open_sink(options: CaptureOptions, plan: Plan, bottom_up: bool) -> Sink:
    out = options.out
    try:
        if out.suffix.lower() in VIDEO_SUFFIXES:
            out.parent.mkdir(parents=True, exist_ok=True)
            return VideoWriter(
                out, options.size, options.fps, CODECS[options.codec], options.quality, options.audio,
                plan.first / options.fps, plan.count / options.fps, bottom_up=bottom_up, preset=options.preset,
            )
        _clear_frames(out)
        return FrameFolder(out, options.size, plan.first, bottom_up=bottom_up)
    except OSError as error:
        raise UserError(f"The output {out} cannot be written ({error.strerror or error}); choose another --out.") from error


def _clear_frames(folder: Path) -> None:
    if folder.is_dir():
        for path in folder.glob("frame_[0-9]*.png"):
            path.unlink()


def render_frames(show: Show, options: CaptureOptions, plan: Plan, music: MusicFile | None = None) -> Iterator[bytes]:
    """Rendered frames (bottom row first) of ``plan``, read back through pixel buffer objects.

    With ``music``, the sound heard during each frame steers the show exactly as a live input
    would; the analysis runs from the first frame even when the range starts later, so its
    envelopes are the same as in a whole run.
    """
    window = PygameWindow((64, 64), vsync=False, hidden=True)
    try:
        renderer = Renderer(show, shaders_dir())
        target = Framebuffer(options.size)
        reader = PixelReader(target)
        dt = 1.0 / options.fps
        analysis = SoundAnalysis(music.sample_rate) if music else None

        def step(index: int) -> FrameState:
            sound = analysis.update(music.frame(index - 1), dt) if analysis else SILENCE
            return show.advance(dt, sound)

        state = show.frame_state()
        for index in range(1, plan.first + 1):
            state = step(index)
        for index in range(plan.first, plan.stop):
            if index > plan.first:
                state = step(index)
            target.bind()
            renderer.draw(state, options.size)
            reader.request()
            if (frame := reader.ready()) is not None:
                yield frame
        yield from reader.drain()
    finally:
        window.close()


def _write_all(sink: Sink, frames, plan: Plan, options: CaptureOptions) -> int:
    """Feed every frame to ``sink`` with a progress bar; always finish the file, even on Ctrl-C."""
    try:
        with tqdm(total=plan.count, unit="frame", desc="capture", disable=options.quiet) as bar:
            for frame in frames:
                sink.write(frame)
                bar.update()
    except KeyboardInterrupt:
        sink.close()
        log.warning("interrupted: %d of %d frames are in %s, which stays playable", sink.frames, plan.count, options.out)
        raise
    sink.close()
    log.info("%d frames written to %s", sink.frames, options.out)
    return sink.frames


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


def _fit(frame: np.ndarray, size: tuple[int, int]) -> bytes:
    """A keyframe letterboxed into the output size, as the renderer would place it."""
    image = ImageOps.pad(Image.fromarray(frame), size, Image.Resampling.LANCZOS, color=(0, 0, 0))
    return image.tobytes()


def join(parts: list[Path], out: Path, force: bool) -> None:
    """``metamorph concat``: join videos rendered in ranges."""
    if out.exists() and not force:
        raise UserError(f"The output {out} exists; choose another --out or add --force to replace it.")
    concat(parts, out)
