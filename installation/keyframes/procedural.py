"""The procedural backend: a weights-free, deterministic stand-in for a diffusion model.

It follows a real diffusion trajectory, not a model. The photo is noised forward on Stable
Diffusion's scaled-linear DDPM schedule to the timestep that ``strength`` selects, then walked
back with deterministic DDIM steps. Where a network would predict the clean image, this backend
uses an analytic estimate: the photo whose frequency bands are replaced, coarsest first, by those
of a stylisation that the prompt's known words steer (``style.py``), with a little noise that
enters and leaves. So x0 frames sharpen coarse to fine, and latent frames are grainy, as with a
real model, but the picture is an image-processing result, never a neural one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from installation.curves import smoothstep
from installation.keyframes.images import fit, resize, to_uint8
from installation.keyframes.request import Generated, KeyframeRequest, capture_indices, executed_count
from installation.keyframes.sequence import Frame, frame_file
from installation.keyframes.style import Style, blur, read_prompt, stylize

TRAINING_STEPS = 1000
SCHEDULER = "ddim (scaled-linear betas 0.00085..0.012, 1000 training steps)"
_NOISE_PEAK = 0.1
_BAND_WIDTH = 0.45


@dataclass(frozen=True)
class Step:
    """One executed denoising step: its index among those executed and its training timestep."""

    index: int
    timestep: int


def _alphas_cumprod() -> np.ndarray:
    betas = np.linspace(0.00085**0.5, 0.012**0.5, TRAINING_STEPS, dtype=np.float64) ** 2
    return np.cumprod(1.0 - betas)


def executed_steps(steps: int, strength: float) -> list[Step]:
    """The DDIM timesteps an image-to-image run executes, as diffusers' img2img picks them."""
    ratio = TRAINING_STEPS // steps
    timesteps = (np.arange(steps) * ratio)[::-1] + 1
    begin = steps - executed_count(steps, strength)
    return [Step(index, int(t)) for index, t in enumerate(timesteps[begin:])]


class ProceduralTrajectory:
    """The denoising of one source picture towards its stylisation, step by step."""

    def __init__(self, source: np.ndarray, target: np.ndarray, steps: list[Step], seed: int) -> None:
        rng = np.random.default_rng([seed, 1])
        self._steps = steps
        self._source = source * 2 - 1
        self._bands = _laplacian_bands(target * 2 - 1 - self._source)
        self._noise = rng.standard_normal(source.shape).astype(np.float32)
        self._grain = self._noise - blur(self._noise, 3)
        self._abar = _alphas_cumprod()
        self._ratio = TRAINING_STEPS // max(len(steps), 1)

    def clean_estimate(self, position: float) -> np.ndarray:
        """x0 at ``position`` in [0, 1] of the run: bands of the target arrive coarse to fine."""
        estimate = self._source.copy()
        last = len(self._bands) - 1
        for level, band in enumerate(self._bands):
            start = (1 - _BAND_WIDTH) * level / max(last, 1)
            weight = smoothstep((position - start) / _BAND_WIDTH)
            if weight > 0:
                estimate += np.float32(weight) * band
        estimate += np.float32(_NOISE_PEAK * np.sin(np.pi * position)) * self._grain
        return estimate

    def run(self, mode: str, capture: set[int], on_step: Callable[[Step, np.ndarray | None], None]) -> None:
        """Walk every step; hand the picture of each step in ``capture`` (in [0, 1]) to ``on_step``."""
        count = len(self._steps)
        first = self._steps[0].timestep
        latent = np.sqrt(self._abar[first]) * self._source + np.sqrt(1 - self._abar[first]) * self._noise
        for step in self._steps:
            wanted = step.index in capture
            estimate = None
            if wanted or mode == "latents":
                estimate = self.clean_estimate((step.index + 1) / count)
            if mode == "latents" and estimate is not None:
                latent = self._ddim_update(latent, estimate, step.timestep)
            picture = (latent if mode == "latents" else estimate) if wanted else None
            on_step(step, None if picture is None else np.clip((picture + 1) / 2, 0, 1))

    def _ddim_update(self, latent: np.ndarray, estimate: np.ndarray, timestep: int) -> np.ndarray:
        abar = self._abar[timestep]
        previous = timestep - self._ratio
        abar_previous = self._abar[previous] if previous >= 0 else 1.0
        noise = (latent - np.sqrt(abar) * estimate) / np.sqrt(1 - abar)
        return (np.sqrt(abar_previous) * estimate + np.sqrt(1 - abar_previous) * noise).astype(np.float32)


def _laplacian_bands(image: np.ndarray) -> list[np.ndarray]:
    """Full-size frequency bands of ``image``, coarsest first, that add up to it exactly."""
    levels = [image]
    while min(levels[-1].shape[:2]) >= 16:
        levels.append(blur(levels[-1], 2)[::2, ::2])
    height, width = image.shape[:2]
    upsampled = [resize(level, (width, height)) for level in levels]
    bands = [upsampled[-1]]
    bands += [upsampled[k] - upsampled[k + 1] for k in range(len(upsampled) - 2, -1, -1)]
    return bands


def noise_picture(size: tuple[int, int], seed: int) -> np.ndarray:
    """The pure noise a text-to-image run starts from, shown as a picture."""
    width, height = size
    noise = np.random.default_rng([seed, 2]).standard_normal((height, width, 3)).astype(np.float32)
    return np.clip(0.5 + 0.25 * noise, 0, 1)


def composition(size: tuple[int, int], seed: int) -> np.ndarray:
    """What a text-to-image run paints when there is no photo: soft fractal light and shade."""
    width, height = size
    rng = np.random.default_rng([seed, 3])
    field = np.zeros((height, width, 1), dtype=np.float32)
    for octave in range(5):
        cells = (2 + 2**octave * 2, 2 + 2**octave)
        coarse = rng.standard_normal((cells[1], cells[0], 1)).astype(np.float32)
        field += resize(coarse, (width, height)) / 1.8**octave
    gradient = np.linspace(0.75, 0.25, height, dtype=np.float32)[:, None, None]
    light = np.clip(gradient + 0.18 * field, 0, 1)
    warm = np.array([0.95, 0.85, 0.7], dtype=np.float32)
    cool = np.array([0.3, 0.4, 0.6], dtype=np.float32)
    return light * warm + (1 - light) * cool * light


def target_for(source: np.ndarray, prompt: str, seed: int) -> tuple[np.ndarray, Style]:
    """The final picture a run converges to, and the style read from the prompt."""
    style = read_prompt(prompt)
    return stylize(source, style, seed), style


def generate(request: KeyframeRequest, size: tuple[int, int]) -> Generated:
    """The procedural backend's whole run: the start picture, the captured steps, the result."""
    from tqdm import tqdm  # here, not at the top: `metamorph play` reads this module but never denoises

    strength = 1.0 if request.from_noise else request.strength
    steps = executed_steps(request.steps, strength)
    if request.photo is None:
        start = noise_picture(size, request.seed)
        structure = composition(size, request.seed)
    else:
        start = structure = fit(request.photo.pixels, size)
    target, style = target_for(structure, request.prompt, request.seed)
    trajectory = ProceduralTrajectory(start, target, steps, request.seed)

    frames = [to_uint8(start)]
    infos = [Frame(file=frame_file(0), kind="noise" if request.photo is None else "photo")]
    with tqdm(total=len(steps), desc="denoising", unit="step", disable=request.quiet) as bar:

        def on_step(step: Step, picture: np.ndarray | None) -> None:
            if picture is not None:
                kind = "final" if step.index == len(steps) - 1 else "step"
                infos.append(Frame(frame_file(len(frames)), kind, step.index, step.timestep))
                frames.append(to_uint8(picture))
            bar.update()

        trajectory.run(request.capture_mode, set(capture_indices(len(steps), request.captures)), on_step)
    return Generated(
        frames=frames,
        infos=infos,
        size=size,
        model="procedural (analytic stylisation, no neural network)",
        scheduler=SCHEDULER,
        strength=strength,
        guidance=None,
        steps_executed=len(steps),
        options={"style_words": style.words()},
    )
