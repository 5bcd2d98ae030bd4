"""What a Ray task does on its node: render one chunk of a capture, or make one keyframe sequence.

Both return an outcome instead of raising for a ``UserError`` (a fact about the job or the node,
which a retry on the same node would only repeat); Ray retries what kills the process itself.
Nothing here imports ray or OpenGL at import time: ``render_chunk`` chooses the headless GL
platform first, as every rendering command does.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from installation.cluster.transfer import Inputs, local_options, read_files
from installation.errors import UserError
from installation.keyframes.request import KeyframeRequest, Photo
from installation.options import CaptureOptions
from installation.render.video import VIDEO_SUFFIXES


@dataclass(frozen=True)
class ChunkJob:
    """Frames ``first`` to ``stop`` - 1 of a capture, to ``target`` (a segment video or the PNG
    folder) when the node sees ``marker``, else sent back."""

    index: int
    options: CaptureOptions
    first: int
    stop: int
    target: Path
    marker: Path


@dataclass(frozen=True)
class Outcome:
    """A finished task: its frames (None: it failed, for ``failure``), and the files it sends back
    when it could not write them in place. ``node_fault``: the node, not the job, is at fault."""

    index: int
    frames: int | None
    files: dict[str, bytes] | None = None
    failure: str = ""
    node_fault: bool = False
    node: str = ""


def render_chunk(job: ChunkJob, inputs: Inputs, node: str) -> Outcome:
    """Render ``job`` headless on this node; a node without usable OpenGL says so in one sentence."""
    from installation.render.platform import choose

    choose(offscreen=True)
    if (reason := gl_failure()) is not None:
        return Outcome(job.index, None, failure=reason, node_fault=True, node=node)
    try:
        options = local_options(job.options, inputs)
        if job.marker.exists():
            return Outcome(job.index, _render(job, options, job.target), node=node)
        with tempfile.TemporaryDirectory(prefix="metamorph-chunk-") as folder:
            local = Path(folder) / job.target.name
            frames = _render(job, options, local)
            files = {local.name: local.read_bytes()} if local.is_file() else read_files(local)
            return Outcome(job.index, frames, files, node=node)
    except UserError as error:
        return Outcome(job.index, None, failure=str(error), node=node)


def _render(job: ChunkJob, options: CaptureOptions, path: Path) -> int:
    from installation.capture import render_range

    return render_range(options, job.first, job.stop, path)


def gl_failure() -> str | None:
    """Why this node cannot render (its one-sentence OpenGL or display error), or None."""
    from installation.render.window import PygameWindow

    try:
        PygameWindow((16, 16), vsync=False, hidden=True).close()
    except UserError as error:
        return str(error)
    return None


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


@dataclass(frozen=True)
class KeyframeJob:
    """One photo x prompt x seed: ``request`` without its photo, which travels once per photo."""

    index: int
    request: KeyframeRequest
    marker: Path


def make_sequence(job: KeyframeJob, photo: Photo | None, node: str) -> Outcome:
    """Make one keyframe sequence: in its folder when this node sees it, else sent back whole."""
    from installation.keyframes.make import make_keyframes

    request = replace(job.request, photo=photo, quiet=True)
    try:
        if job.marker.exists():
            return Outcome(job.index, len(make_keyframes(request)), node=node)
        with tempfile.TemporaryDirectory(prefix="metamorph-keyframes-") as folder:
            sequence = make_keyframes(replace(request, out=Path(folder) / request.out.name, force=True))
            return Outcome(job.index, len(sequence), read_files(sequence.folder), node=node)
    except UserError as error:
        return Outcome(job.index, None, failure=str(error), node=node)
