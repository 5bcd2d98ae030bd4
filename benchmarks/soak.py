"""Soak: the live loop for an hour of show time (216,000 frames at 60 fps, simulated), printing
the memory slope.

    SDL_VIDEODRIVER=offscreen .venv/bin/python benchmarks/soak.py [--frames 216000]

The same run as tests/test_endurance.py (a two-sequence playlist switching every 1.5 s, OSC
traffic, a fake sound card), longer, at a 96x54 window. It prints memory, threads and open files
at 20 points, and the slope of memory over the second half, in MB per hour of show.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from installation.render.platform import choose  # noqa: E402

choose(offscreen=True)

import numpy as np  # noqa: E402

from installation.keyframes.contact import contact_sheet  # noqa: E402
from installation.keyframes.demo import alpine_scene  # noqa: E402
from installation.keyframes.images import to_uint8  # noqa: E402
from installation.keyframes.sequence import save_sequence  # noqa: E402
from tests.helpers import sequence_of  # noqa: E402
from tests.soak import second_half_growth, soak  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=216_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        library = Path(folder)
        scene = to_uint8(alpine_scene(160, 96))
        frames = [scene, np.ascontiguousarray(scene[::-1]), 255 - scene]
        for name in ("alps", "valley"):
            save_sequence(library / name, sequence_of(frames).manifest, frames, contact_sheet)
        samples = soak(library, args.frames)
    for sample in samples:
        print(
            f"frame {sample.frame:>7}: {sample.megabytes:7.1f} MB, {sample.threads} threads, {sample.open_files} open files"
        )
    half = samples[len(samples) // 2 :]
    frames = np.array([s.frame for s in half], dtype=float)
    slope = np.polyfit(frames, [s.megabytes for s in half], 1)[0] * 216_000
    print(f"memory slope over the second half: {slope:+.2f} MB per hour of show")
    print(f"growth over the second half: {second_half_growth(samples):+.1f} MB")


if __name__ == "__main__":
    main()
