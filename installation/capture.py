"""The offline loop: the live loop's frame pipeline and renderer, headless, with sinks.

Frame i is the show at time i / fps: the frame ``play --fixed-step FPS`` shows, fed the same
audio. Because every frame is a pure function of the pipeline's inputs, a range ``--frames A:B``
steps the pipeline (no drawing) to A and renders from there, so ranges rendered apart join into
the same video as one run. Rendering, readback (pixel buffer objects) and encoding (ffmpeg, its
own process) overlap. The caller chooses the offscreen GL platform first
(``installation.render.platform.choose``).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from installation import signals
from installation.control.sound import open_sound
from installation.errors import UserError
from installation.options import CaptureOptions
from installation.paths import shaders_dir
from installation.render.framebuffer import Framebuffer
from installation.render.post import TRAILS_MEMORY
from installation.render.readback import PixelReader
from installation.render.renderer import Renderer
from installation.render.video import (
    CODECS,
    PRESETS,
    VIDEO_SUFFIXES,
    FrameFolder,
    VideoWriter,
    check_codec,
    concat,
    finishing,
    partial_path,
    probe_audio,
)
from installation.render.window import PygameWindow
from installation.scene.clock import FixedClock
from installation.scene.pipeline import FramePipeline
from installation.scene.show import FrameState, Show
from installation.scene.stage import Stage

log = logging.getLogger(__name__)
MAX_SECONDS = 86_400.0
MAX_SIDE = 16_384
"""The largest framebuffer side most GPUs (and llvmpipe) allow; larger fails only once GL starts."""


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


def capture(options: CaptureOptions) -> int:
    """Render ``options`` to a video or a PNG folder; return the number of frames written."""
    stage, plan = plan_capture(options)
    with signals.polling():
        frames = frames_of(options, stage, plan)
        first = next(frames)  # GL and the first frame work before any file is created
        sink = open_sink(options, plan)
        return _write_all(sink, itertools.chain([first], frames), plan, options)


def plan_capture(options: CaptureOptions) -> tuple[Stage, Plan]:
    """Check ``options``, load the stage, and say which frames they ask for: what a cluster run
    splits into chunks."""
    _check_options(options)
    music_seconds = probe_audio(options.audio) if options.audio else None
    stage = options.show.first_stage()
    if options.mode == "morph":
        natural = morph_length(len(stage.sequence.frames), options.in_betweens) / options.fps
    else:
        natural = Show(stage, options.show.order, options.show.parameters_set()).pass_seconds()
    return stage, _plan(options, natural, music_seconds)


def frames_of(options: CaptureOptions, stage: Stage, plan: Plan) -> Iterator[bytes]:
    """The frames of ``plan``, top row first: the morph's cross-fades, or the rendered show."""
    if options.mode == "morph":
        keyframes = stage.sequence.frames
        return (
            _fit(morph_frame(keyframes, options.in_betweens, i), options.size) for i in range(plan.first, plan.stop)
        )
    return render_frames(capture_pipeline(options, stage), options.size, plan)


def render_range(options: CaptureOptions, first: int, stop: int, path: Path) -> int:
    """Render frames ``first`` to ``stop`` - 1 of ``options`` to ``path``: one chunk of a split render.

    ``path`` is a video without music (the music is muxed once, over the joined chunks) or a PNG
    folder whose other frames are left alone, since other chunks write there too. The range is
    trusted: the caller planned it with ``plan_capture``.
    """
    stage = options.show.first_stage()
    plan = Plan(first, stop, stop)
    sink: Sink
    if path.suffix.lower() in VIDEO_SUFFIXES:
        codec = CODECS[options.codec]
        # A retry of a chunk whose worker died may find the segment written: this run's own file.
        sink = VideoWriter(path, options.size, options.fps, codec, options.quality, preset=options.preset, force=True)
    else:
        sink = FrameFolder(path, options.size, first)
    return _write_all(sink, frames_of(options, stage, plan), plan, replace(options, quiet=True))


def capture_pipeline(options: CaptureOptions, stage: Stage) -> FramePipeline:
    """The frame pipeline of a capture: a fixed step of 1/fps, the music file as the sound heard."""
    show = Show(stage, options.show.order, options.show.parameters_set())
    return FramePipeline(show, FixedClock(options.fps), open_sound(options.audio))


def _check_options(options: CaptureOptions) -> None:
    if not 1 <= options.fps <= 240:
        raise UserError(f"--fps {options.fps:g} is outside 1..240; use 60 or 30.")
    if options.seconds is not None and not 0 < options.seconds <= MAX_SECONDS:
        raise UserError(
            f"--seconds {options.seconds:g} is outside 0..{MAX_SECONDS:g} (24 hours); give the length in seconds, e.g. 20."
        )
    if not 1 <= options.quality <= 100:
        raise UserError(f"--quality {options.quality} is outside 1..100; use 80 for a good balance.")
    if min(options.size) < 16:
        raise UserError(f"--size {options.size[0]}x{options.size[1]} is too small; use at least 16x16.")
    if max(options.size) > MAX_SIDE:
        raise UserError(
            f"--size {options.size[0]}x{options.size[1]} is too large; captures are at most {MAX_SIDE} pixels on a "
            "side, e.g. 7680x4320 (8K)."
        )
    if options.in_betweens < 0:
        raise UserError(f"--in-betweens {options.in_betweens} must be 0 or more.")
    if options.preset not in PRESETS:
        raise UserError(f"--encoder-preset {options.preset} is unknown; choose one of {', '.join(PRESETS)}.")
    if options.codec not in CODECS:
        raise UserError(f"--codec {options.codec} is unknown; choose one of {', '.join(CODECS)}.")
    out = options.out
    video = out.suffix.lower() in VIDEO_SUFFIXES
    if out.suffix and not video:
        raise UserError(
            f"The output {out} is neither a video ({', '.join(VIDEO_SUFFIXES)}) nor a folder; name it .mp4, .mov, .mkv or a folder."
        )
    if video:
        check_codec(CODECS[options.codec], out, options.size)
        if out.exists() and not options.force:
            raise UserError(f"The output {out} exists; choose another --out or add --force to replace it.")
        if partial_path(out).exists() and not options.force:
            raise UserError(
                f"An interrupted capture's playable {partial_path(out)} is there; rename it to keep it, or add "
                "--force to replace it."
            )
    elif out.is_dir() and any(out.iterdir()) and not options.force:
        raise UserError(f"The output folder {out} is not empty; choose another --out or add --force to replace it.")


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


def open_sink(options: CaptureOptions, plan: Plan) -> Sink:
    out = options.out
    try:
        if out.suffix.lower() in VIDEO_SUFFIXES:
            out.parent.mkdir(parents=True, exist_ok=True)
            return VideoWriter(
                out,
                options.size,
                options.fps,
                CODECS[options.codec],
                options.quality,
                options.audio,
                plan.first / options.fps,
                plan.count / options.fps,
                preset=options.preset,
                force=options.force,
            )
        clear_frames(out)
        return FrameFolder(out, options.size, plan.first)
    except OSError as error:
        raise UserError(
            f"The output {out} cannot be written ({error.strerror or error}); choose another --out."
        ) from error


def clear_frames(folder: Path) -> None:
    """Remove the whole frames of an earlier capture; partial files belong to other runs."""
    if folder.is_dir():
        for path in folder.glob("frame_[0-9]*.png"):
            path.unlink()


def render_frames(pipeline: FramePipeline, size: tuple[int, int], plan: Plan) -> Iterator[bytes]:
    """Rendered frames (top row first) of ``plan``, read back through pixel buffer objects.

    The pipeline steps through every frame from 0, so sound envelopes and smoothing are the same
    as in a whole run; the frames before the plan are drawn only as far as its first frame's
    trails remember them.
    """
    window = PygameWindow((64, 64), vsync=False, hidden=True)
    try:
        renderer = Renderer(shaders_dir())
        target = Framebuffer(size)
        reader = PixelReader(target)
        for state, wanted in planned_states(pipeline, plan):
            target.bind()
            renderer.draw(state, size)
            if not wanted:
                continue
            reader.request()
            if (frame := reader.ready()) is not None:
                yield frame
        yield from reader.drain()
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


def _write_all(sink: Sink, frames: Iterable[bytes], plan: Plan, options: CaptureOptions) -> int:
    """Feed every frame to ``sink`` with a progress bar; always finish the file, even when stopped."""
    try:
        with tqdm(total=plan.count, unit="frame", desc="capture", disable=options.quiet) as bar:
            for frame in frames:
                sink.write(frame)
                bar.update()
                if signals.stop_requested():
                    raise signals.Stopped()
    except (KeyboardInterrupt, signals.Stopped):
        with finishing(f"finishing the partial {options.out}"):  # a signal held back comes after the message
            kept = sink.close(complete=False)
            log.warning("interrupted: %d of %d frames are in %s, which stays playable", sink.frames, plan.count, kept)
        raise
    except BaseException:
        sink.discard()
        raise
    with finishing(f"finishing {options.out}"):
        log.info("%d frames written to %s", sink.frames, sink.close())
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
    concat(parts, out, force)
