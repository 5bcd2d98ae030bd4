"""Control map benchmark: how loading a map grows with its number of controls.

    .venv/bin/python benchmarks/controlmap.py

It writes maps of 5,000 and 20,000 controls (a MIDI binding for each of MIDI's 4,096 controls,
OSC addresses for the rest, as in tests/control/test_mapping.py) and times ``load_mapping`` on
each, the best of 3 rounds. It prints the 20k / 5k ratio: a load that grows in
proportion to the map gives about 4 (TOML parsing dominates); one that grows with the square
of the count, as a scan of the text per control did, gives 16 (84 s for 20,000 controls).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from installation.control.mapping import load_mapping  # noqa: E402
from tests.control.test_mapping import big_map  # noqa: E402

SIZES = (5_000, 20_000)
ROUNDS = 3


def best_load(path: Path) -> float:
    """The quickest of ``ROUNDS`` loads of ``path``, in seconds."""
    times = []
    for _ in range(ROUNDS):
        begin = time.perf_counter()
        load_mapping(path)
        times.append(time.perf_counter() - begin)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = {size: Path(folder) / f"map{size}.toml" for size in SIZES}
        for size, path in paths.items():
            big_map(path, size=size)
        seconds = {size: best_load(path) for size, path in paths.items()}
    for size in SIZES:
        print(f"{size:>6} controls: {seconds[size]:.3f} s")
    print(f"20k / 5k: {seconds[SIZES[1]] / seconds[SIZES[0]]:.1f} (linear: about 4, quadratic: 16)")


if __name__ == "__main__":
    main()
