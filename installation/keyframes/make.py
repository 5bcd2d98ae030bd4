"""Stage 1 from top to bottom: a photo (or noise) and a prompt become a saved keyframe sequence.

Everything the user can get wrong is checked before the long work starts, so a mistake costs
seconds, not a whole run.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from installation import __version__
from installation.errors import UserError
from installation.keyframes import procedural
from installation.keyframes.images import MAX_PIXELS, read_rgb, to_float
from installation.keyframes.request import KeyframeRequest, Photo, check_captures
from installation.keyframes.sequence import (
    CAPTURE_MODES,
    KeyframeSequence,
    Manifest,
    Source,
    prepare_output,
    save_sequence,
)

BACKENDS = ("procedural", "diffusers")
DEFAULT_LONG_SIDE = 1920
MIN_SIDE = 16
MAX_SIDE = 8192
"""The longest side of a keyframe: the texture size every GPU that runs the player can hold."""
MAX_SEED = 2**64 - 1
"""The largest seed both numpy and torch generators take (a 64-bit unsigned integer)."""


def load_photo(path: Path) -> Photo:
    """Read a photo file, refusing missing, broken or oversized files with one sentence."""
    image = read_rgb(Path(path), what="photo", fix="give the path of a PNG, JPEG or WebP photo")
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return Photo(pixels=to_float(image), source=Source(file=Path(path).name, sha256=digest))


def make_keyframes(request: KeyframeRequest) -> KeyframeSequence:
    """Run the request's backend and save the sequence with its contact sheet."""
    validate(request)
    executed = request.steps_executed
    if request.backend == "procedural" or executed == 0:
        check_captures(request, executed)  # diffusers captures what it can: a strength sweep, or every step from noise
    prepare_output(request.out, request.force)
    if request.backend == "diffusers":
        from installation.keyframes import diffusion

        generated = diffusion.generate(request)
    else:
        generated = procedural.generate(request, request.size or default_size(request.photo))
    manifest = Manifest(
        backend=request.backend,
        model=generated.model,
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        seed=request.seed,
        strength=generated.strength,
        scheduler=generated.scheduler,
        guidance=generated.guidance,
        steps=request.steps,
        steps_executed=generated.steps_executed,
        capture_mode=request.capture_mode,
        width=generated.size[0],
        height=generated.size[1],
        frames=tuple(generated.infos),
        source=None if request.photo is None else request.photo.source,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        package_version=__version__,
        options=generated.options,
    )
    from installation.keyframes.contact import contact_sheet  # PIL's drawing and fonts: only when making

    return save_sequence(request.out, manifest, generated.frames, contact_sheet)


def validate(request: KeyframeRequest) -> None:
    """Refuse, before any output folder is touched or model loaded, what cannot make a sequence."""
    if not request.prompt.strip():
        raise UserError('The prompt is empty; describe the reinterpretation with --prompt "...".')
    if request.capture_mode not in CAPTURE_MODES:
        raise UserError(f"--capture must be one of {', '.join(CAPTURE_MODES)}, not {request.capture_mode!r}.")
    if request.steps < 1 or request.steps > procedural.TRAINING_STEPS:
        raise UserError(f"--steps {request.steps} is outside 1..{procedural.TRAINING_STEPS}; pick a value such as 50.")
    if not 0.0 < request.strength <= 1.0:
        raise UserError(f"--strength {request.strength} is outside (0, 1]; pick a value such as 0.75.")
    if request.backend not in BACKENDS:
        raise UserError(f"--backend {request.backend} is unknown; choose one of {', '.join(BACKENDS)}.")
    if not 0 <= request.seed <= MAX_SEED:
        raise UserError(f"--seed {request.seed} is outside 0..{MAX_SEED}; pick a value such as 0 or 1234.")
    if request.size is not None:
        _check_size(request.size)


def _check_size(size: tuple[int, int]) -> None:
    width, height = size
    if min(size) < MIN_SIDE:
        raise UserError(f"--size {width}x{height} is too small; use at least {MIN_SIDE}x{MIN_SIDE}.")
    if max(size) > MAX_SIDE or width * height > MAX_PIXELS:
        raise UserError(
            f"--size {width}x{height} is too large; keyframes are at most {MAX_SIDE} pixels on a side and "
            f"{MAX_PIXELS / 1e6:.0f} MP in all, e.g. 7680x4320 or 1920x1080."
        )


def default_size(photo: Photo | None) -> tuple[int, int]:
    """The photo's own size, shrunk to at most 1920 on the long side, in multiples of 8."""
    if photo is None:
        return (DEFAULT_LONG_SIDE, DEFAULT_LONG_SIDE * 9 // 16)
    height, width = photo.pixels.shape[:2]
    scale = min(1.0, DEFAULT_LONG_SIDE / max(width, height))
    return (max(MIN_SIDE, round(width * scale / 8) * 8), max(MIN_SIDE, round(height * scale / 8) * 8))
