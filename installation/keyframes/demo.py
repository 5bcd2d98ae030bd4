"""The built-in demo: an alpine scene drawn by code, so everything runs with no photo and no download.

A sky gradient, a ridge with a Matterhorn-like horn, snow on the heights and the lit faces, dark
forest at the foot, and a lake that mirrors it all with ripples. The drawing is deterministic.
The demo sequence is this scene through the procedural backend with the source piece's prompt.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from installation.errors import UserError
from installation.keyframes.images import resize, to_uint8
from installation.keyframes.make import make_keyframes
from installation.keyframes.request import KeyframeRequest, Photo
from installation.keyframes.sequence import KeyframeSequence, Source, load_sequence
from installation.keyframes.style import blur
from installation.paths import keyframes_dir

DEMO_PROMPT = "Artistic wavy version with subtle pink and violet tones"
DEMO_SEED = 7
DEMO_SIZE = (1920, 1080)
_SHORE = 0.66


def demo_folder() -> Path:
    """Where the demo sequence is cached."""
    return keyframes_dir() / "demo"


def demo_photo() -> Photo:
    """The drawn scene as a source photo, with a digest of its pixels as its identity."""
    pixels = alpine_scene()
    digest = hashlib.sha256(to_uint8(pixels).tobytes()).hexdigest()
    return Photo(pixels=pixels, source=Source(file="alpine-scene (drawn by code)", sha256=digest))


def build_demo(quiet: bool = False) -> KeyframeSequence:
    """Make the demo sequence afresh, replacing the cached one."""
    request = KeyframeRequest(
        prompt=DEMO_PROMPT, out=demo_folder(), photo=demo_photo(), seed=DEMO_SEED, force=True, quiet=quiet
    )
    return make_keyframes(request)


def demo_sequence(quiet: bool = False) -> KeyframeSequence:
    """The cached demo sequence, built on first use (or when the cache is incomplete)."""
    try:
        return load_sequence(demo_folder())
    except UserError:
        return build_demo(quiet)


def alpine_scene(width: int = DEMO_SIZE[0], height: int = DEMO_SIZE[1]) -> np.ndarray:
    """The demo photo as float sRGB in [0, 1], height x width x 3."""
    rng = np.random.default_rng(1865)  # the year of the Matterhorn's first ascent
    shore = int(height * _SHORE)
    upper = _sky(width, shore)
    ridge, summit = _ridge(width, shore, rng)
    rows = np.arange(shore, dtype=np.float32)[:, None]
    mountain = rows >= ridge[None, :]
    upper = np.where(mountain[..., None], _rock_and_snow(ridge, summit, shore, rng), upper)
    upper = _forest(upper, rng)
    lake = _reflection(upper, height - shore, rng)
    return np.clip(np.concatenate([upper, lake], axis=0), 0, 1).astype(np.float32)


def _sky(width: int, height: int) -> np.ndarray:
    t = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    zenith = np.array([0.16, 0.33, 0.62], dtype=np.float32)
    horizon = np.array([0.80, 0.86, 0.92], dtype=np.float32)
    sky = zenith * (1 - t**0.8) + horizon * t**0.8
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    glow = np.exp(-(((x - 0.2) / 0.25) ** 2) - ((t - 0.9) / 0.35) ** 2)
    return (sky + 0.12 * glow * np.array([1.0, 0.8, 0.55], dtype=np.float32)).astype(np.float32)


def _ridge(width: int, shore: int, rng: np.random.Generator) -> tuple[np.ndarray, np.floating]:
    """The skyline row per column, and the horn's summit column (where its faces meet)."""
    x = np.linspace(0, 1, width)
    peak_x = 0.56
    left = np.clip(1 - (peak_x - x) / 0.15, 0, 1) ** 1.5
    right = np.clip(1 - (x - peak_x) / 0.27, 0, 1) ** 1.15
    horn = np.where(x < peak_x, left, right)
    hook = 0.05 * np.exp(-(((x - peak_x + 0.012) / 0.012) ** 2))
    shoulder = 0.06 * np.exp(-(((x - 0.68) / 0.03) ** 2))
    ranges = 0.22 + 0.05 * np.sin(7.0 * x + 1.0) + 0.03 * np.sin(19.0 * x)
    rough = np.cumsum(rng.standard_normal(width)) / np.sqrt(width) * 0.03
    height_fraction = np.maximum(0.80 * horn + hook + shoulder, ranges) + rough
    ridge = shore * (1 - np.clip(height_fraction, 0.05, 0.92))
    return ridge.astype(np.float32), np.float32(peak_x * width)


def _rock_and_snow(ridge: np.ndarray, summit: np.floating, shore: int, rng: np.random.Generator) -> np.ndarray:
    width = ridge.size
    rows = np.arange(shore, dtype=np.float32)[:, None]
    cols = np.arange(width, dtype=np.float32)[None, :]
    depth = (rows - ridge[None, :]) / shore
    texture = blur(rng.standard_normal((shore, width, 1)).astype(np.float32), 6)[..., 0]
    texture /= max(float(np.abs(texture).max()), 1e-6)
    face_edge = summit + 0.45 * (rows - float(ridge.min()))
    lit = np.where(cols < face_edge, 0.95, 0.45) + 0.12 * texture
    rock = lit[..., None] * np.array([0.46, 0.42, 0.39], dtype=np.float32)
    couloirs = 0.5 + 0.5 * np.sin(cols * 0.05 + texture * 4)
    snowline = 0.16 + 0.10 * couloirs + 0.06 * texture
    snow_amount = np.clip((snowline - depth) * 10, 0, 1)
    snow = lit[..., None] * np.array([0.98, 0.98, 1.0], dtype=np.float32) + 0.04
    haze = np.clip(depth * 1.2, 0, 0.45)[..., None]
    mountain = rock * (1 - snow_amount[..., None]) + snow * snow_amount[..., None]
    return (mountain * (1 - haze) + haze * np.array([0.6, 0.68, 0.78])).astype(np.float32)


def _forest(upper: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    height, width = upper.shape[:2]
    x = np.arange(width)
    tops = np.repeat(rng.uniform(6, 26, width // 9 + 1), 9)[:width]
    tree_line = height * (0.93 - 0.02 * np.sin(x / width * 9)) - tops * np.abs(np.sin(x * np.pi / 9))
    rows = np.arange(height)[:, None]
    forest = rows >= tree_line[None, :]
    green = np.array([0.10, 0.20, 0.14], dtype=np.float32) * (0.8 + 0.4 * (rows / height))[..., None]
    return np.where(forest[..., None], green, upper).astype(np.float32)


def _reflection(upper: np.ndarray, height: int, rng: np.random.Generator) -> np.ndarray:
    """The lake: the scene mirrored at the shore, rippled, darkened and tinted by the water."""
    mirrored = upper[::-1][:height]
    if mirrored.shape[0] < height:
        mirrored = resize(mirrored, (upper.shape[1], height))
    rows = np.arange(height, dtype=np.float32)[:, None]
    cols = np.arange(upper.shape[1], dtype=np.float32)[None, :]
    ripple = 3.0 * (1 + rows / height * 4) * np.sin(rows * 0.9 + np.sin(cols * 0.013) * 2)
    source_cols = np.clip(cols + ripple, 0, upper.shape[1] - 1).astype(np.int32)
    water = mirrored[np.arange(height)[:, None], source_cols]
    depth = (rows / height)[..., None]
    tint = np.array([0.05, 0.16, 0.24], dtype=np.float32)
    sparkle = blur(rng.standard_normal((height, upper.shape[1], 1)).astype(np.float32), 1.5) * 0.03
    return (water * (0.72 - 0.25 * depth) + tint * (0.3 + 0.5 * depth) + sparkle).astype(np.float32)
