"""Readback benchmark: the live loop with a pixel-reading output on, against off, in one run.

    .venv/bin/python benchmarks/readback.py [--rounds N]

The live loop (offscreen, the demo at 1920x1080, FRAMES frames at a fixed step) runs alone, with
a live readback of every frame in BGRA (a flipped blit) and in UYVY (what NDI takes: the packing
pass), each to an output that only counts the frames: the GPU's work, the copy into pixel
buffers and the mapping, off the render thread's waiting path. The runs take turns for N rounds (default 3); the figure is the ratio of
the frame rates (on / off; 1 means free), each the median of its rounds, timed from the end of
the first frame to the end of the last (``liveloop.FrameClock``). Frames the ring or the output
could not take are counted.
"""

from __future__ import annotations

import statistics

from installation.render.platform import choose

choose(offscreen=True)

from liveloop import FrameClock, demo_player, in_turns, rounds_from_command_line  # noqa: E402

from installation.render.loop import Readback  # noqa: E402
from installation.render.readback import PixelFormat  # noqa: E402

SIZE = (1920, 1080)


class Counted:
    """A pixel output that takes each frame and keeps only the count."""

    def __init__(self) -> None:
        self.frames = 0

    def write(self, frame: bytes) -> None:
        self.frames += 1


def loop_run(reading: PixelFormat | None) -> tuple[float, int, int]:
    """Mean frame seconds, frames that reached the output, frames dropped."""
    player = demo_player(None, None, SIZE)
    counted, readback = Counted(), Readback(reading or PixelFormat.RGB, lossless=False)
    if reading is not None:
        readback.add(counted)
        player.loop.outputs.insert(0, readback)
    clock = FrameClock(player)
    player.run()
    return statistics.fmean(clock.frame_seconds()), counted.frames, readback.dropped


def main() -> None:
    rounds = rounds_from_command_line(__doc__.splitlines()[0], "readback.py")
    conditions = [None, PixelFormat.BGRA, PixelFormat.UYVY]
    runs = in_turns(conditions, rounds, loop_run)
    off = statistics.median(seconds for seconds, _, _ in runs[None])
    print(f"live loop at {SIZE[0]}x{SIZE[1]}, {rounds} rounds")
    print(f"  without readback: {off * 1e3:.2f} ms a frame ({1 / off:.1f} fps)")
    for pixels in conditions[1:]:
        on = statistics.median(seconds for seconds, _, _ in runs[pixels])
        read = sum(frames for _, frames, _ in runs[pixels])
        dropped = sum(dropped for _, _, dropped in runs[pixels])
        print(
            f"  with a live {pixels.upper()} readback: {on * 1e3:.2f} ms a frame ({1 / on:.1f} fps), frame rate with "
            f"/ without {off / on:.3f}; {read} frames read, {dropped} dropped"
        )


if __name__ == "__main__":
    main()
