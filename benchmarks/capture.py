"""Capture benchmark: render-only, encode-only and whole-pipeline frames per second.

    .venv/bin/python benchmarks/capture.py [--frames 60]

Renders the demo in the middle of its first transition at 1920x1080 and 3840x2160 (h264,
quality 80, the default preset and ultrafast). Render-only reads every frame back and drops it; encode-only feeds ffmpeg frames
rendered beforehand; the whole pipeline is `metamorph capture`'s own loop. The ratio of the
whole to the slower of the two parts says how well they overlap (1.0: perfectly).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from installation.render.platform import choose

choose(offscreen=True)

from installation.capture import capture_pipeline, open_sink  # noqa: E402
from installation.options import CaptureOptions, ShowOptions  # noqa: E402
from installation.render.offline import Plan, render_frames  # noqa: E402
from installation.render.video import DEFAULT_PRESET  # noqa: E402

START = 200  # 3.3 s in: the spheres are travelling


def _fps(frames: int, seconds: float) -> float:
    return frames / seconds


def best_of(rounds: int, size: tuple[int, int], count: int, folder: Path, preset: str) -> tuple[float, ...]:
    """The best of each figure over interleaved rounds: a shared machine only ever slows a run."""
    results = [measure(size, count, folder, preset) for _ in range(rounds)]
    return tuple(max(column) for column in zip(*results, strict=True))


def measure(size: tuple[int, int], count: int, folder: Path, preset: str) -> tuple[float, float, float]:
    options = CaptureOptions(
        out=folder / f"bench-{size[0]}.mp4",
        show=ShowOptions(),
        size=size,
        encoder_preset=preset,
        force=True,
        quiet=True,
    )
    plan = Plan(START, START + count, START + count)
    stage = options.show.first_stage()

    begin = time.perf_counter()
    frames = list(render_frames(capture_pipeline(options, stage), size, plan))
    render = _fps(count, time.perf_counter() - begin)

    begin = time.perf_counter()
    sink = open_sink(options, plan)
    for frame in frames:
        sink.write(frame)
    sink.close()
    encode = _fps(count, time.perf_counter() - begin)
    del frames

    begin = time.perf_counter()
    sink = open_sink(options, plan)
    for frame in render_frames(capture_pipeline(options, stage), size, plan):
        sink.write(frame)
    sink.close()
    whole = _fps(count, time.perf_counter() - begin)
    return render, encode, whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="frames per measurement at 1080p (half at 4K)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per figure; the best counts")
    args = parser.parse_args()
    print(f"{'size':>10} {'preset':>10} {'render fps':>11} {'encode fps':>11} {'whole fps':>10} {'whole/slower':>13}")
    with tempfile.TemporaryDirectory() as folder:
        for size, count in (((1920, 1080), args.frames), ((3840, 2160), max(args.frames // 2, 4))):
            for preset in (DEFAULT_PRESET, "ultrafast"):
                render, encode, whole = best_of(args.rounds, size, count, Path(folder), preset)
                print(
                    f"{size[0]}x{size[1]:<5} {preset:>10} {render:>11.1f} {encode:>11.1f} {whole:>10.1f} "
                    f"{whole / min(render, encode):>13.2f}"
                )


if __name__ == "__main__":
    main()
