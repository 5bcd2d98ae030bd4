"""Keyframe capture benchmark on the tiny pipeline: what capturing 15 steps costs.

    .venv/bin/python benchmarks/keyframes.py

At 256 and 512 px (50 steps x strength 0.75 = 37 executed), it times a plain run, the 14
decodes of the intermediate frames done on their own, a 15-capture run, and a 15-capture run
with a tiny preview decoder; each the best of 3 interleaved rounds. It prints

    capture / (plain + decodes)   the capture machinery itself (target 1.05 or less)
    capture / plain               what capture costs a user, decodes included
    preview capture / plain       the same with --preview-vae
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from diffusers import AutoencoderTiny, AutoPipelineForImage2Image  # noqa: E402
from PIL import Image  # noqa: E402

from installation.keyframes.demo import alpine_scene  # noqa: E402
from installation.keyframes.diffusion import _decode, capture_steps  # noqa: E402
from installation.keyframes.request import KeyframeRequest, Photo  # noqa: E402
from installation.keyframes.sequence import Source  # noqa: E402
from tests.tiny_pipeline import build_tiny_pipeline, build_tiny_preview_decoder  # noqa: E402

STEPS, STRENGTH, CAPTURES = 50, 0.75, 15


def timed(action) -> float:
    begin = time.perf_counter()
    action()
    return time.perf_counter() - begin


def measure_side(pipe, preview, side: int, folder: str) -> None:
    """One row of the table: the plain run, the decodes, and the captures, best of three."""
    size = (side, side)
    pixels = alpine_scene(side, side)
    photo = Photo(pixels, Source("alps", ""))
    request = KeyframeRequest(
        prompt="pink waves",
        out=Path(folder),
        photo=photo,
        steps=STEPS,
        strength=STRENGTH,
        captures=CAPTURES,
        quiet=True,
    )
    image = Image.fromarray((pixels * 255).astype(np.uint8))
    latents = torch.randn(1, 4, side // 8, side // 8, generator=torch.Generator().manual_seed(0))

    def plain() -> None:
        pipe(
            "pink waves",
            image=image,
            strength=STRENGTH,
            num_inference_steps=STEPS,
            width=side,
            height=side,
            generator=torch.Generator().manual_seed(0),
            output_type="np",
        )

    def decodes() -> None:
        for _ in range(CAPTURES - 1):
            _decode(pipe, None, latents)

    rounds = []
    with torch.inference_mode():
        for _ in range(3):
            rounds.append(
                (
                    timed(plain),
                    timed(decodes),
                    timed(lambda: capture_steps(torch, pipe, request, size, None)),
                    timed(lambda: capture_steps(torch, pipe, request, size, preview)),
                )
            )
    t_plain, t_decodes, t_capture, t_preview = (min(column) for column in zip(*rounds, strict=True))
    print(
        f"{side:>6} {t_plain:>8.2f} {t_decodes:>10.2f} {t_capture:>10.2f} {t_preview:>10.2f} "
        f"{t_capture / (t_plain + t_decodes):>24.2f} {t_capture / t_plain:>14.2f} {t_preview / t_plain:>14.2f}"
    )


def main() -> None:
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as folder:
        model = build_tiny_pipeline(Path(folder))
        preview = AutoencoderTiny.from_pretrained(str(build_tiny_preview_decoder(Path(folder))))
        pipe = AutoPipelineForImage2Image.from_pretrained(str(model), use_safetensors=True)
        pipe.set_progress_bar_config(disable=True)
        print(
            f"{'size':>6} {'plain s':>8} {'decodes s':>10} {'capture s':>10} {'preview s':>10} "
            f"{'capture/(plain+decodes)':>24} {'capture/plain':>14} {'preview/plain':>14}"
        )
        for side in (256, 512):
            measure_side(pipe, preview, side, folder)


if __name__ == "__main__":
    main()
