"""Stage 1 from top to bottom: a photo (or noise) and a prompt become a saved keyframe sequence.

Everything the user can get wrong is checked before the long work starts, so a mistake costs
seconds, not a whole run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from installation import __version__
from installation.errors import UserError
from installation.keyframes import procedural
from installation.keyframes.capture import capture_indices
from installation.keyframes.contact import contact_sheet
from installation.keyframes.images import read_rgb, to_float, to_uint8
from installation.keyframes.sequence import (
    CAPTURE_MODES,
    Frame,
    KeyframeSequence,
    Manifest,
    Source,
    frame_file,
    prepare_output,
    save_sequence,
)

DEFAULT_LONG_SIDE = 1920
MIN_SIDE = 16


@dataclass(frozen=True)
class Photo:
    """A source picture in memory (float sRGB in [0, 1]) and where it came from."""

    pixels: np.ndarray
    source: Source


@dataclass(frozen=True)
class KeyframeRequest:
    """One run of ``metamorph keyframes``: what to make and where to put it."""

    prompt: str
    out: Path
    photo: Photo | None = None
    seed: int = 0
    steps: int = 50
    strength: float = 0.75
    captures: int = 15
    capture_mode: str = "x0"
    size: tuple[int, int] | None = None
    force: bool = False
    quiet: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def from_noise(self) -> bool:
        return self.photo is None


def load_photo(path: Path) -> Photo:
    """Read a photo file, refusing missing, broken or oversized files with one sentence."""
    image = read_rgb(Path(path), what="photo", fix="give the path of a PNG, JPEG or WebP photo")
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return Photo(pixels=to_float(image), source=Source(file=Path(path).name, sha256=digest))


def make_keyframes(request: KeyframeRequest) -> KeyframeSequence:
    """Run the procedural backend for ``request`` and save the sequence with its contact sheet."""
    _check_request(request)
    strength = 1.0 if request.from_noise else request.strength
    steps = procedural.executed_steps(request.steps, strength)
    _check_captures(request, len(steps))
    size = request.size or default_size(request.photo)
    prepare_output(request.out, request.force)

    seed = request.seed
    if request.photo is None:
        start = procedural.noise_picture(size, seed)
        structure = procedural.composition(size, seed)
    else:
        start = structure = fit(request.photo.pixels, size)
    target, style = procedural.target_for(structure, request.prompt, seed)
    trajectory = procedural.ProceduralTrajectory(start, target, steps, seed)

    wanted = capture_indices(len(steps), request.captures)
    frames = [to_uint8(start)]
    infos = [Frame(file=frame_file(0), kind="noise" if request.photo is None else "photo")]
    with tqdm(total=len(steps), desc="denoising", unit="step", disable=request.quiet) as bar:

        def on_step(step: procedural.Step, picture: np.ndarray | None) -> None:
            if picture is not None:
                kind = "final" if step.index == len(steps) - 1 else "step"
                infos.append(Frame(frame_file(len(frames)), kind, step.index, step.timestep))
                frames.append(to_uint8(picture))
            bar.update()

        trajectory.run(request.capture_mode, set(wanted), on_step)

    manifest = Manifest(
        backend="procedural",
        model="procedural (analytic stylisation, no neural network)",
        prompt=request.prompt,
        negative_prompt="",
        seed=seed,
        strength=strength,
        scheduler=procedural.SCHEDULER,
        guidance=None,
        steps=request.steps,
        steps_executed=len(steps),
        capture_mode=request.capture_mode,
        width=size[0],
        height=size[1],
        frames=tuple(infos),
        source=None if request.photo is None else request.photo.source,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        package_version=__version__,
        options={"style_words": style.words(), **request.extra},
    )
    return save_sequence(request.out, manifest, frames, contact_sheet)


def _check_request(request: KeyframeRequest) -> None:
    if not request.prompt.strip():
        raise UserError('The prompt is empty; describe the reinterpretation with --prompt "...".')
    if request.capture_mode not in CAPTURE_MODES:
        raise UserError(f"--capture must be one of {', '.join(CAPTURE_MODES)}, not {request.capture_mode!r}.")
    if request.steps < 1 or request.steps > procedural.TRAINING_STEPS:
        raise UserError(f"--steps {request.steps} is outside 1..{procedural.TRAINING_STEPS}; pick a value such as 50.")
    if not 0.0 < request.strength <= 1.0:
        raise UserError(f"--strength {request.strength} is outside (0, 1]; pick a value such as 0.75.")
    if request.size is not None and min(request.size) < MIN_SIDE:
        raise UserError(f"--size {request.size[0]}x{request.size[1]} is too small; use at least {MIN_SIDE}x{MIN_SIDE}.")


def _check_captures(request: KeyframeRequest, executed: int) -> None:
    if executed == 0:
        raise UserError(
            f"--steps {request.steps} with --strength {request.strength} executes no denoising step "
            "(int(steps x strength) is 0); raise --steps or --strength."
        )
    if not 1 <= request.captures <= executed:
        raise UserError(
            f"--captures {request.captures} is outside 1..{executed}, the steps this run executes "
            f"(--steps {request.steps} x --strength {request.strength}); lower --captures or raise --steps."
        )


def default_size(photo: Photo | None) -> tuple[int, int]:
    """The photo's own size, shrunk to at most 1920 on the long side, in multiples of 8."""
    if photo is None:
        return (DEFAULT_LONG_SIDE, DEFAULT_LONG_SIDE * 9 // 16)
    height, width = photo.pixels.shape[:2]
    scale = min(1.0, DEFAULT_LONG_SIDE / max(width, height))
    return (max(MIN_SIDE, round(width * scale / 8) * 8), max(MIN_SIDE, round(height * scale / 8) * 8))


def fit(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale and centre-crop ``pixels`` to exactly ``size``, keeping the picture's aspect."""
    if pixels.shape[1::-1] == size:
        return pixels
    image = Image.fromarray(to_uint8(pixels))
    return to_float(ImageOps.fit(image, size, Image.Resampling.LANCZOS))
