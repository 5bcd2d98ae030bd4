"""Screenshots of the demo frame in each look, and how far two sets of them differ.

    SDL_VIDEODRIVER=offscreen .venv/bin/python benchmarks/look.py render DIR
    .venv/bin/python benchmarks/look.py compare BEFORE AFTER [--image docs/look-before-after.jpg]

``render`` draws the demo mid-transition (keyframes 3 to 4, progress 0.5) in each look of LOOKS,
at 1920x1080, 640x360 and an odd 637x359, as RGBA PNGs (trails: the last of 12 frames 1/60 s
apart). Render once before a change meant to keep the look and once after, then ``compare``
prints, per picture, the largest difference of any channel (of 255), its 99.9th percentile and
the share of values more than 3 apart, and writes, with ``--image``, before | after | difference
(times 64) for depth of field and glow at 1080p.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

LOOKS = {
    "default": {},
    "glow": {"glow": 0.6},
    "glow-strong": {"glow": 2.0},
    "trails": {"trails": 0.8},
    "dof": {"defocus": 1.0},
    "dof-strong": {"defocus": 2.0, "diffusion": 0.3},
    "all": {"glow": 0.6, "trails": 0.8, "defocus": 1.0},
    "storm-like": {"glow": 1.2, "trails": 0.9, "defocus": 0.6, "diffusion": 0.5, "size": 0.9, "shading": 1.0},
}
SIZES = {"1080p": (1920, 1080), "small": (640, 360), "odd": (637, 359)}
ONLY_AT_1080P = ("glow-strong", "storm-like")
SHOWN = ("dof", "glow")
"""The looks of ``--image``: the blurs whose passes changed most."""


def render(folder: Path) -> None:
    """Every look at every size into ``folder``."""
    from installation.render.platform import choose

    choose(offscreen=True)
    from installation.keyframes.demo import demo_sequence
    from installation.render.framebuffer import Framebuffer
    from installation.render.window import PygameWindow
    from installation.scene.stage import prepare_stage

    folder.mkdir(parents=True, exist_ok=True)
    window = PygameWindow((64, 64), vsync=False, hidden=True)
    stage = prepare_stage(demo_sequence())
    for size_name, size in SIZES.items():
        target = Framebuffer(size)
        for name, change in LOOKS.items():
            if size_name == "1080p" or name not in ONLY_AT_1080P:
                Image.fromarray(_drawn(stage, change, target)).save(folder / f"{name}-{size_name}.png")
        target.delete()
    window.close()


def _drawn(stage, change: dict[str, float], target) -> np.ndarray:
    """The demo frame in the look ``change`` drawn into ``target``, RGBA, row 0 at the top."""
    from OpenGL import GL

    from installation.paths import shaders_dir
    from installation.render.renderer import Renderer
    from installation.scene.parameters import ParameterValues
    from installation.scene.show import transition_frame

    renderer = Renderer(shaders_dir())
    values = dataclasses.replace(ParameterValues(), **change)
    frames = 12 if values.trails > 0 else 1
    for i in range(frames):
        state = transition_frame(stage, 3, 4, 0.5 - 0.02 * (frames - 1 - i), values)
        target.bind()
        renderer.draw(dataclasses.replace(state, time=i / 60), target.size)
    target.bind()
    width, height = target.size
    raw = GL.glReadPixels(0, 0, width, height, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE)
    return np.frombuffer(raw, np.uint8).reshape(height, width, 4)[::-1].copy()


def compare(before: Path, after: Path) -> int:
    """Print how far each picture of ``after`` is from ``before``'s; the largest difference."""
    worst = 0
    for path in sorted(before.glob("*.png")):
        difference = np.abs(_read(path) - _read(after / path.name))
        colour = difference[..., :3]
        worst = max(worst, int(difference.max()))
        print(
            f"{path.stem:<18} max {colour.max():>3} alpha {difference[..., 3].max():>3} "
            f"p99.9 {np.percentile(colour, 99.9):4.1f} over 3: {(colour > 3).mean():.5f}"
        )
    print(f"largest difference of any channel: {worst} of 255")
    return worst


def _read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path)).astype(int)


def side_by_side(before: Path, after: Path, image: Path, width: int = 384) -> None:
    """Before | after | difference times 64 (at most over each shrunk pixel) for SHOWN at 1080p."""
    rows = []
    for name in SHOWN:
        first, second = (_read(folder / f"{name}-1080p.png")[..., :3] for folder in (before, after))
        factor = first.shape[1] // width
        difference = np.abs(first - second).max(axis=-1)
        cut = difference[: difference.shape[0] // factor * factor, : width * factor]
        pooled = cut.reshape(cut.shape[0] // factor, factor, width, factor).max(axis=(1, 3))
        amplified = np.repeat(np.clip(pooled * 64, 0, 255)[..., None], 3, -1).astype(np.uint8)
        tiles = [_shrunk(first, amplified.shape), _shrunk(second, amplified.shape), amplified]
        rows.append(_labelled(np.concatenate(tiles, axis=1), f"{name}: before | after | difference x64"))
    image.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(image, quality=75)


def _shrunk(picture: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.asarray(Image.fromarray(picture.astype(np.uint8)).resize((shape[1], shape[0]), Image.Resampling.BOX))


def _labelled(row: np.ndarray, text: str) -> np.ndarray:
    picture = Image.fromarray(row)
    ImageDraw.Draw(picture).text((6, 4), text, fill=(255, 255, 255))
    return np.asarray(picture)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("render").add_argument("folder", type=Path)
    comparing = commands.add_parser("compare")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    comparing.add_argument("--image", type=Path, help="write before | after | difference here (JPEG)")
    args = parser.parse_args()
    if args.command == "render":
        render(args.folder)
        return
    compare(args.before, args.after)
    if args.image:
        side_by_side(args.before, args.after, args.image)


if __name__ == "__main__":
    main()
