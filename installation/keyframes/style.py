"""The procedural backend's reading of a prompt, and the analytic stylisation it steers.

No model is involved: the prompt's words that this module knows (colour names, a few style
words) choose a palette and effects, applied to the photo with closed-form image operations.
``describe_vocabulary`` lists the words for the CLI help and the README.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from installation.keyframes.images import resize
from installation.keyframes.oklab import oklab_to_srgb, srgb_to_oklab

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (224, 48, 58),
    "crimson": (176, 24, 58),
    "orange": (240, 138, 36),
    "amber": (240, 176, 32),
    "gold": (226, 177, 60),
    "golden": (226, 177, 60),
    "yellow": (242, 222, 58),
    "green": (58, 168, 86),
    "emerald": (31, 158, 110),
    "teal": (31, 143, 143),
    "turquoise": (51, 198, 192),
    "cyan": (60, 200, 230),
    "blue": (47, 111, 224),
    "navy": (29, 47, 122),
    "indigo": (75, 58, 168),
    "violet": (164, 92, 240),
    "purple": (138, 60, 200),
    "lavender": (183, 160, 234),
    "magenta": (216, 60, 192),
    "pink": (242, 126, 192),
    "rose": (232, 96, 138),
    "brown": (138, 90, 54),
    "sepia": (150, 110, 70),
}
_CHROMA_WORDS = {"subtle": 0.6, "muted": 0.5, "soft": 0.7, "vivid": 1.35, "bold": 1.3, "neon": 1.5}
_MONO_WORDS = ("monochrome", "grayscale", "greyscale", "black and white")
_STYLE_WORDS = {
    "wavy": ("wavy", "wave", "waves", "swirl", "swirly", "rippled", "undulating"),
    "cubist": ("cubist", "cubism", "geometric", "faceted", "facets"),
    "watercolor": ("watercolor", "watercolour", "aquarelle", "painted", "painterly"),
    "pastel": ("pastel", "pastels"),
}


@dataclass(frozen=True)
class Style:
    """What the procedural backend understood of a prompt."""

    palette: tuple[str, ...] = ()
    chroma: float = 1.0
    wavy: bool = False
    cubist: bool = False
    watercolor: bool = False
    pastel: bool = False
    mono: bool = False

    def words(self) -> list[str]:
        """The recognised words, for the manifest and the log."""
        effects = [name for name in ("wavy", "cubist", "watercolor", "pastel", "mono") if getattr(self, name)]
        return [*self.palette, *effects]


def read_prompt(prompt: str) -> Style:
    """Find the colour and style words of ``prompt`` (case and punctuation ignored)."""
    text = " ".join(re.findall(r"[a-z]+", prompt.lower()))
    tokens = text.split()
    palette = tuple(dict.fromkeys(word for word in tokens if word in COLOURS))
    chroma = 1.0
    for word, factor in _CHROMA_WORDS.items():
        if word in tokens:
            chroma *= factor
    effects = {name: any(word in tokens for word in words) for name, words in _STYLE_WORDS.items()}
    mono = any(f" {phrase} " in f" {text} " for phrase in _MONO_WORDS)
    return Style(palette=palette, chroma=chroma, mono=mono, **effects)


def describe_vocabulary() -> str:
    """One paragraph listing the words the procedural backend reacts to."""
    styles = ", ".join(words[0] for words in _STYLE_WORDS.values())
    return (
        f"colours: {', '.join(sorted(set(COLOURS)))}; styles: {styles}; "
        f"intensity: {', '.join(_CHROMA_WORDS)}, {', '.join(_MONO_WORDS)}"
    )


def stylize(pixels: np.ndarray, style: Style, seed: int) -> np.ndarray:
    """The reinterpretation of ``pixels`` (float sRGB in [0, 1], H x W x 3) that ``style`` asks for.

    Effects that move shapes (facets, brush) come first, colour next, the wave warp last so that
    it bends the finished picture, palette and all.
    """
    rng = np.random.default_rng(seed)
    image = pixels
    if style.cubist:
        image = _facets(image, rng)
    if style.watercolor:
        image = _watercolor(image, rng)
    image = _recolour(image, style)
    if style.wavy:
        image = _wave(image, rng)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def _recolour(pixels: np.ndarray, style: Style) -> np.ndarray:
    """Keep the photo's lightness (its structure); take the hue from the palette."""
    lab = srgb_to_oklab(pixels)
    lightness, chroma = lab[..., 0], lab[..., 1:]
    if style.palette:
        chroma = 0.2 * chroma + _gradient_map(lightness, style.palette)
    elif not style.words():
        chroma = chroma * 1.25
    chroma = chroma * (0.0 if style.mono else style.chroma)
    if style.pastel:
        lightness = 0.4 + 0.55 * lightness
        chroma = chroma * 0.6
    return oklab_to_srgb(np.concatenate([lightness[..., None], chroma], axis=-1))


def _gradient_map(lightness: np.ndarray, palette: tuple[str, ...]) -> np.ndarray:
    """Palette colours laid out from dark to light along the picture's own lightness range."""
    colours = srgb_to_oklab(np.array([COLOURS[name] for name in palette], dtype=np.float32) / 255.0)
    colours = colours[np.argsort(colours[:, 0], kind="stable")]
    low, high = np.percentile(lightness, (2, 98))
    position = np.clip((lightness - low) / max(high - low, 1e-3), 0.0, 1.0)
    stops = np.linspace(0.0, 1.0, len(colours)) if len(colours) > 1 else np.zeros(1)
    mapped = [np.interp(position, stops, colours[:, channel]) for channel in (1, 2)]
    return np.stack(mapped, axis=-1).astype(np.float32)


def _wave(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bend the picture along two crossing sine waves (a few percent of its size)."""
    height, width = pixels.shape[:2]
    scale = min(width, height)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi, size=2)
    wavelength = 0.22 * scale
    dx = 0.018 * scale * np.sin(2 * np.pi * y / wavelength + phase[0] + 0.8 * np.sin(x / wavelength))
    dy = 0.012 * scale * np.sin(2 * np.pi * x / (1.3 * wavelength) + phase[1])
    return sample_bilinear(pixels, x + dx, y + dy)


def sample_bilinear(pixels: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Read ``pixels`` at fractional coordinates, clamped at the borders."""
    height, width = pixels.shape[:2]
    x = np.clip(x, 0, width - 1)
    y = np.clip(y, 0, height - 1)
    x0 = np.minimum(x.astype(np.int32), width - 2)
    y0 = np.minimum(y.astype(np.int32), height - 2)
    fx = (x - x0)[..., None]
    fy = (y - y0)[..., None]
    top = pixels[y0, x0] * (1 - fx) + pixels[y0, x0 + 1] * fx
    bottom = pixels[y0 + 1, x0] * (1 - fx) + pixels[y0 + 1, x0 + 1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def _facets(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Cubist planes: Voronoi cells filled with their mean colour, each shaded along a slant."""
    height, width = pixels.shape[:2]
    labels = _voronoi_labels(width, height, rng)
    count = int(labels.max()) + 1
    area = np.bincount(labels.ravel(), minlength=count).astype(np.float32)
    means = (
        np.stack([np.bincount(labels.ravel(), pixels[..., c].ravel(), count) for c in range(3)], axis=-1)
        / np.maximum(area, 1)[:, None]
    )
    angle = rng.uniform(0, 2 * np.pi, count)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32) / max(width, height)
    slant = np.cos(angle)[labels] * x + np.sin(angle)[labels] * y
    slant = (slant - np.bincount(labels.ravel(), slant.ravel(), count)[labels] / area[labels]) * 2.5
    edges = (np.diff(labels, axis=0, prepend=labels[:1]) != 0) | (np.diff(labels, axis=1, prepend=labels[:, :1]) != 0)
    planes = means[labels] * (1 + slant[..., None]) * np.where(edges, 0.55, 1.0)[..., None]
    return (0.8 * planes + 0.2 * pixels).astype(np.float32)


def _voronoi_labels(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Nearest-seed labels, found on a quarter-size grid and scaled up (fast, and edges stay crisp)."""
    small_w, small_h = max(width // 4, 1), max(height // 4, 1)
    cells = int(np.clip(small_w * small_h / 400, 8, 600))
    seeds = rng.uniform((0, 0), (small_w, small_h), size=(cells, 2)).astype(np.float32)
    ys, xs = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    points = np.stack([xs.ravel(), ys.ravel()], axis=-1)
    labels = np.empty(len(points), dtype=np.int32)
    for start in range(0, len(points), 16384):
        chunk = points[start : start + 16384]
        distance = ((chunk[:, None, :] - seeds[None, :, :]) ** 2).sum(-1)
        labels[start : start + 16384] = distance.argmin(axis=1)
    grid = labels.reshape(small_h, small_w)
    rows = np.minimum(np.arange(height) * small_h // height, small_h - 1)
    cols = np.minimum(np.arange(width) * small_w // width, small_w - 1)
    return grid[rows[:, None], cols[None, :]]


def _watercolor(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Soft washes: a blurred, slightly posterised base with darker pooled edges and paper grain."""
    height, width = pixels.shape[:2]
    wash = blur(pixels, 6)
    wash = np.round(wash * 7) / 7 * 0.6 + wash * 0.4
    lightness = wash.mean(axis=-1)
    edge = np.abs(np.gradient(blur(lightness[..., None], 2)[..., 0])).sum(axis=0)
    edge = edge / max(float(edge.max()), 1e-6)
    grain = blur(rng.standard_normal((height, width, 1)).astype(np.float32), 1.5)
    paper = 1.0 + 0.04 * grain / max(float(np.abs(grain).max()), 1e-6)
    return (wash * (1 - 0.35 * edge[..., None]) * paper).astype(np.float32)


def blur(pixels: np.ndarray, factor: float) -> np.ndarray:
    """A cheap wide blur: shrink by ``factor`` with an area filter, grow back bilinearly."""
    height, width = pixels.shape[:2]
    small = (max(int(width / factor), 1), max(int(height / factor), 1))
    return resize(resize(pixels, small), (width, height))
