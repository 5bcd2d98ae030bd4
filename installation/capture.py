"""``metamorph capture``: the show rendered offline into a video or a PNG folder.

This driver checks the options, plans which frames to render, opens the sink (``render/video.py``)
and feeds it the frames of the offline loop (``render/offline.py``) with a progress bar; a stop
finishes the file as a playable partial. ``capture --ray`` splits the same plan into chunks
(``cluster/render.py``), each rendered by ``render_range``.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
from collections.abc import Generator, Iterable
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from installation import signals
from installation.control.sound import open_sound
from installation.errors import UserError
from installation.files import partial_path
from installation.flags import check_declared
from installation.options import CaptureOptions
from installation.render.offline import Plan, Sink, fit_keyframe, morph_frame, morph_length, render_frames
from installation.render.video import (
    CODECS,
    PRESETS,
    VIDEO_SUFFIXES,
    FrameFolder,
    VideoWriter,
    check_codec,
    clear_frames,
    concat,
    finishing,
    probe_audio,
)
from installation.scene.clock import FixedClock
from installation.scene.pipeline import FramePipeline
from installation.scene.show import Show
from installation.scene.stage import Stage
from installation.scene.tempo import TempoMap

log = logging.getLogger(__name__)


def capture(options: CaptureOptions) -> int:
    """Render ``options`` to a video or a PNG folder; return the number of frames written."""
    stage, plan = plan_capture(options)
    # the frames' generator holds the GL context and the music: closed (last first) however this
    # ends, a sink that cannot be opened included
    with signals.polling(interrupt=True), contextlib.closing(frames_of(options, stage, plan)) as frames:
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


def frames_of(options: CaptureOptions, stage: Stage, plan: Plan) -> Generator[bytes, None, None]:
    """The frames of ``plan``, top row first: the morph's cross-fades, or the rendered show."""
    if options.mode == "morph":
        keyframes = stage.sequence.frames
        return (
            fit_keyframe(morph_frame(keyframes, options.in_betweens, i), options.size)
            for i in range(plan.first, plan.stop)
        )
    return render_frames(capture_pipeline(options, stage), options.size, plan)


def render_range(options: CaptureOptions, first: int, stop: int, path: Path) -> int:
    """Render frames ``first`` to ``stop`` - 1 of ``options`` to ``path``: one chunk of a split render.

    ``path`` is a video without music (the music is muxed once, over the joined chunks) or a PNG
    folder whose other frames are left alone, since other chunks write there too. The range is
    trusted: the caller planned it with ``plan_capture``. A stop asked of an earlier chunk of the
    same worker process is forgotten first.
    """
    signals.reset()
    stage = options.show.first_stage()
    plan = Plan(first, stop, stop)
    sink: Sink
    if path.suffix.lower() in VIDEO_SUFFIXES:
        codec = CODECS[options.codec]
        # A retry of a chunk whose worker died may find the segment written: this run's own file.
        sink = VideoWriter(
            path, options.size, options.fps, codec, options.quality, preset=options.encoder_preset, force=True
        )
    else:
        sink = FrameFolder(path, options.size, first)
    return _write_all(sink, frames_of(options, stage, plan), plan, replace(options, quiet=True))


def capture_pipeline(options: CaptureOptions, stage: Stage) -> FramePipeline:
    """The frame pipeline of a capture: a fixed step of 1/fps, the music file as the sound heard,
    transitions on its beats when it has them (``with_beats``)."""
    policy = options.tempo.policy() if options.tempo.beats is not None else None
    show = Show(stage, options.show.order, options.show.parameters_set(), policy=policy)
    return FramePipeline(show, FixedClock(options.fps), open_sound(options.audio))


def with_beats(options: CaptureOptions) -> CaptureOptions:
    """``options`` with the beats its transitions land on: the music's, found once here (so every
    range and Ray chunk follows the same map, frame-exactly), or a steady ``--bpm``; as they were
    for a free capture."""
    tempo = options.tempo
    if tempo.bpm is not None:
        beats = TempoMap(tempo.bpm, tempo.offset, quantum=tempo.quantum)
        log.info("tempo: %.1f BPM given, the first downbeat %.3f s into the show", tempo.bpm, tempo.offset)
    elif tempo.sync == "audio":
        if options.audio is None:
            raise UserError("--sync audio follows the beats of the music; give it with --audio FILE, or use --bpm.")
        beats = _music_beats(options.audio, tempo.quantum)
    else:
        return options
    return replace(options, tempo=replace(tempo, beats=beats))


def _music_beats(music: Path, quantum: float) -> TempoMap:
    from installation.control.tempo.music import BeatTrackerUnavailable, music_tempo_map

    probe_audio(music)
    try:
        beats = music_tempo_map(music, quantum)
    except BeatTrackerUnavailable as error:
        raise UserError(str(error)) from error
    except ValueError as error:
        raise UserError(f"No beats were found in {music}; give the tempo with --bpm and --offset.") from error
    log.info("tempo: %.1f BPM, %d beats found in %s", beats.bpm, len(beats.times), music.name)
    return beats


def _check_options(options: CaptureOptions) -> None:
    check_declared(options)
    if options.encoder_preset not in PRESETS:
        raise UserError(f"--encoder-preset {options.encoder_preset} is unknown; choose one of {', '.join(PRESETS)}.")
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
                preset=options.encoder_preset,
                force=options.force,
            )
        clear_frames(out)
        return FrameFolder(out, options.size, plan.first)
    except OSError as error:
        raise UserError(
            f"The output {out} cannot be written ({error.strerror or error}); choose another --out."
        ) from error


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


def join(parts: list[Path], out: Path, force: bool) -> None:
    """``metamorph concat``: join videos rendered in ranges."""
    if out.exists() and not force:
        raise UserError(f"The output {out} exists; choose another --out or add --force to replace it.")
    concat(parts, out, force)
