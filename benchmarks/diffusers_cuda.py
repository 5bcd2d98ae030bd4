"""The tiny diffusers pipeline's denoising steps a second on CUDA (and on the CPU, for the ratio).

    .venv/bin/python benchmarks/diffusers_cuda.py

Builds the tests' tiny Stable Diffusion pipeline (random weights, no download), runs image-to-
image at 512 px, 50 steps x strength 0.75, on each device there is, best of three; prints steps
a second. Meant for ``benchmarks/gpu.sh`` on a machine with a GPU.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from diffusers import AutoPipelineForImage2Image  # noqa: E402
from PIL import Image  # noqa: E402

from installation.keyframes.demo import alpine_scene  # noqa: E402
from tests.tiny_pipeline import build_tiny_pipeline  # noqa: E402

STEPS, STRENGTH, SIDE = 50, 0.75, 512


def steps_a_second(pipe, device: str) -> float:
    image = Image.fromarray((alpine_scene(SIDE, SIDE) * 255).astype(np.uint8))
    best = float("inf")
    for _ in range(3):
        begin = time.perf_counter()
        pipe(
            "pink waves",
            image=image,
            strength=STRENGTH,
            num_inference_steps=STEPS,
            generator=torch.Generator(device).manual_seed(0),
            output_type="np",
        )
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - begin)
    return int(STEPS * STRENGTH) / best


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        pipe = AutoPipelineForImage2Image.from_pretrained(str(build_tiny_pipeline(Path(folder))), use_safetensors=True)
        pipe.set_progress_bar_config(disable=True)
        devices = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
        for device in devices:
            pipe.to(device)
            print(f"tiny SD img2img {SIDE} px on {device}: {steps_a_second(pipe, device):.1f} steps a second")
        if len(devices) == 1:
            print("no CUDA device: torch.cuda.is_available() is False")


if __name__ == "__main__":
    main()
