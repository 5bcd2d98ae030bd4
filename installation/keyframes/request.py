"""What a keyframe run is asked for, and what a backend hands back: shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from installation.errors import UserError
from installation.keyframes.sequence import Frame, Source

DEFAULT_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"


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
    backend: str = "procedural"
    model: str = DEFAULT_MODEL
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 50
    strength: float = 0.75
    guidance: float = 7.5
    captures: int = 15
    capture_mode: str = "x0"
    scheduler: str | None = None
    size: tuple[int, int] | None = None
    device: str = "auto"
    dtype: str = "auto"
    preview_vae: str | None = None
    force: bool = False
    quiet: bool = False

    @property
    def from_noise(self) -> bool:
        return self.photo is None

    @property
    def steps_executed(self) -> int:
        """The denoising steps this run executes: all of them from noise, else those of the strength."""
        return self.steps if self.from_noise else executed_count(self.steps, self.strength)


def executed_count(steps: int, strength: float) -> int:
    """The steps an image-to-image run executes: int(steps x strength), as diffusers' img2img counts."""
    return min(int(steps * strength), steps)


def capture_indices(executed: int, captures: int) -> list[int]:
    """Which denoising steps become keyframes, for every backend: ``captures`` step indices spread
    evenly over ``executed`` steps, the last step always last (it is the final picture, so a
    sequence always ends on the result)."""
    if not 1 <= captures <= executed:
        raise ValueError(f"cannot capture {captures} of {executed} steps")
    return [round((i + 1) * executed / captures) - 1 for i in range(captures)]


@dataclass
class Generated:
    """A backend's result: 8-bit frames with their manifest entries, and how they were made."""

    frames: list[np.ndarray]
    infos: list[Frame]
    size: tuple[int, int]
    model: str
    scheduler: str
    strength: float
    guidance: float | None
    steps_executed: int
    options: dict[str, object] = field(default_factory=dict)


def check_captures(request: KeyframeRequest, executed: int) -> None:
    """Refuse capture counts the steps executed cannot give (one sentence with the fix)."""
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
