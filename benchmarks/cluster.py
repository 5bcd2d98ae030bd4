"""Cluster benchmark: what a Ray chunk costs, and a 2-worker Ray run against one plain capture.

    .venv/bin/python benchmarks/cluster.py [--seconds 6] [--size 640x360]

Starts a two-node Ray cluster on loopback (one CPU each, as the tests do), then times
`metamorph capture` of the demo to an h264 video: alone on this machine, and with --ray in 2
and in 24 chunks. The per-chunk overhead is the extra wall time of the 24-chunk run over the
2-chunk run per extra chunk (task start, GL context, fast-forward from frame 0, ffmpeg start,
one more segment to join). Ray's own start is not counted; connecting the driver is.
On 2 cores no speed-up is expected: the renderer and x264 already keep both cores busy.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.ray_cluster import two_nodes  # noqa: E402


def _timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "installation", *argv], check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--size", default="640x360")
    args = parser.parse_args()
    frames = round(args.seconds * 30)
    with tempfile.TemporaryDirectory() as folder, two_nodes(Path(folder) / "ray") as cluster:
        common = ["capture", "--size", args.size, "--fps", "30", "--seconds", str(args.seconds), "--quiet", "--force"]
        out = str(Path(folder) / "out.mp4")
        _timed([*common, "--out", out, "--frames", "0:1"])  # builds the demo once, outside the timings
        single = _timed([*common, "--out", out])
        ray = {
            chunks: _timed(
                [*common, "--out", out, "--chunk-frames", str(-(-frames // chunks)), "--ray", cluster.address],
                cluster.env,
            )
            for chunks in (2, 24)
        }
    print(f"{frames} frames at {args.size}, h264: one plain capture {single:.1f} s")
    for chunks, seconds in ray.items():
        print(f"  --ray, 2 workers, {chunks} chunks: {seconds:.1f} s, {seconds / single:.2f} of the plain run")
    print(f"  overhead per extra chunk: {(ray[24] - ray[2]) / 22:.2f} s of wall time")


if __name__ == "__main__":
    main()
