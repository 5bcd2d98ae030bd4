"""Renderer benchmark: frame times, the Python time of a frame, the common way, and start-up.

    SDL_VIDEODRIVER=offscreen .venv/bin/python benchmarks/render.py [--seconds 2]

Prints the table of ``metamorph bench`` (ours against positions computed in numpy and uploaded
every frame, measured in alternating rounds so the ratio survives a noisy machine), then the
time from the command to the first frame of ``metamorph play`` (the demo, already cached).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from installation.render.platform import choose  # noqa: E402

choose(offscreen=True)

from installation.keyframes.demo import demo_sequence  # noqa: E402
from installation.render.bench import measure, table  # noqa: E402


def start_up_seconds(runs: int = 3) -> float:
    """Best wall time of `metamorph play --frames 1` (start, first frame, quit)."""
    command = [sys.executable, "-m", "installation", "play", "--frames", "1", "--no-vsync"]
    best = float("inf")
    for _ in range(runs):
        begin = time.perf_counter()
        subprocess.run(command, check=True)
        best = min(best, time.perf_counter() - begin)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    sequence = demo_sequence()
    print(table(measure(sequence, budget_s=args.seconds)))
    seconds = start_up_seconds()
    print(f"\ncommand to first frame (and exit), demo cached: {seconds:.2f} s  (target 2 s: ratio {seconds / 2:.2f})")


if __name__ == "__main__":
    main()
