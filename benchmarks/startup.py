"""Start-up benchmark: from the command to the first frame of `metamorph play`, beside Python itself.

    .venv/bin/python benchmarks/startup.py [--runs 10]

Runs `metamorph play` on the demo with no display (SDL's offscreen driver), one frame, no sound,
OSC, web server or saved state, RUNS times, and `python -c pass` as many times, taking turns;
prints each median. The player never imports torch; what is left is Python, numpy, pygame,
OpenGL and the demo sequence's loading.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLAY = [sys.executable, "-m", "installation", "play", "--frames", "1", "--window", "640x360", "--no-vsync"]
PLAY += ["--audio", "none", "--osc-port", "0", "--http-port", "0", "--state", "none"]
PASS = [sys.executable, "-c", "pass"]


def seconds(command: list[str]) -> float:
    environment = dict(os.environ, SDL_VIDEODRIVER="offscreen", PYOPENGL_PLATFORM="egl")
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=environment, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each (default 10)")
    runs = parser.parse_args().runs
    seconds(PLAY)  # the demo built and the caches warm: what a technician's second start sees
    play, python = [], []
    for _ in range(runs):
        play.append(seconds(PLAY))
        python.append(seconds(PASS))
    print(f"metamorph play to its first frame and out: {statistics.median(play):.2f} s median of {runs}")
    print(f"python -c pass:                            {statistics.median(python):.2f} s median of {runs}")


if __name__ == "__main__":
    main()
