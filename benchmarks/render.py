"""Renderer benchmark: frame times, the Python time of a frame, the common way, and start-up.

    SDL_VIDEODRIVER=offscreen .venv/bin/python benchmarks/render.py [--seconds 2]

Prints the table of ``metamorph bench`` (ours against positions computed in numpy and uploaded
every frame, measured in alternating rounds so the ratio survives a noisy machine), then the
time from the command to the first frame of ``metamorph play`` (the demo, already cached), then
the frame time at 1920x1080 of the default look mid-transition with each post pass on (glow,
trails, depth of field, all three) against all of them off, in alternating rounds of one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import time

import numpy as np

from installation.render.platform import choose  # noqa: E402

choose(offscreen=True)

from OpenGL import GL  # noqa: E402

from installation.keyframes.demo import demo_sequence  # noqa: E402
from installation.keyframes.sequence import KeyframeSequence  # noqa: E402
from installation.paths import shaders_dir  # noqa: E402
from installation.render.bench import measure, table  # noqa: E402
from installation.render.framebuffer import Framebuffer  # noqa: E402
from installation.render.renderer import Renderer  # noqa: E402
from installation.render.window import PygameWindow  # noqa: E402
from installation.scene.parameters import ParameterValues  # noqa: E402
from installation.scene.show import FrameState, transition_frame  # noqa: E402
from installation.scene.stage import prepare_stage  # noqa: E402

PASSES = {"glow": {"glow": 0.6}, "trails": {"trails": 0.8}, "defocus": {"defocus": 1.0}}
PASSES["all three"] = {**PASSES["glow"], **PASSES["trails"], **PASSES["defocus"]}


def start_up_seconds(runs: int = 3) -> float:
    """Best wall time of `metamorph play --frames 1` (start, first frame, quit)."""
    command = [sys.executable, "-m", "installation", "play", "--frames", "1", "--no-vsync"]
    best = float("inf")
    for _ in range(runs):
        begin = time.perf_counter()
        subprocess.run(command, check=True)
        best = min(best, time.perf_counter() - begin)
    return best


def post_ratios(
    sequence: KeyframeSequence, seconds: float, size: tuple[int, int] = (1920, 1080), rounds: int = 5
) -> dict[str, float]:
    """Median frame time of each pass on over all off, rounds alternating so drift cancels."""
    window = PygameWindow((64, 64), vsync=False, hidden=True)
    renderer, target = Renderer(shaders_dir()), Framebuffer(size)
    stage = prepare_stage(sequence)
    looks = {"off": {}, **PASSES}
    times: dict[str, list[float]] = {name: [] for name in looks}
    for _ in range(rounds):
        for name, change in looks.items():
            state = transition_frame(stage, 3, 4, 0.5, dataclasses.replace(ParameterValues(), **change))
            times[name].append(_frame_seconds(renderer, target, state, size, seconds / rounds))
    window.close()
    off = float(np.median(times["off"]))
    return {name: float(np.median(values)) / off for name, values in times.items()} | {"off ms": off * 1e3}


def _frame_seconds(
    renderer: Renderer, target: Framebuffer, state: FrameState, size: tuple[int, int], budget: float
) -> float:
    target.bind()
    renderer.draw(state, size)
    GL.glFinish()
    count, begin = 0, time.perf_counter()
    while time.perf_counter() - begin < budget or count < 3:
        renderer.draw(state, size)
        count += 1
    GL.glFinish()
    return (time.perf_counter() - begin) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    sequence = demo_sequence()
    ratios = post_ratios(sequence, args.seconds)
    print(f"post passes at 1920x1080, all off: {ratios.pop('off ms'):.1f} ms a frame; each on / all off:")
    for name, ratio in ratios.items():
        print(f"  {name:<10} {ratio:.2f}")
    print(table(measure(sequence, budget_s=args.seconds)[0]))
    seconds = start_up_seconds()
    print(f"\ncommand to first frame (and exit), demo cached: {seconds:.2f} s  (target 2 s: ratio {seconds / 2:.2f})")


if __name__ == "__main__":
    main()
