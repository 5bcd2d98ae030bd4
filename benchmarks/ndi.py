"""NDI benchmark: the live loop with `--ndi` on and off, and what NDI costs the render thread.

    .venv/bin/python benchmarks/ndi.py [--rounds N]

The live loop (offscreen, the demo, FRAMES frames at a fixed step of 60 fps) runs at 1280x720
and 1920x1080, alone and sending every frame as a real NDI source (UYVY, the show's own sender
as `play --ndi` assembles it; no receiver, as for a show whose mixer is not yet connected). The
runs take turns for N rounds (default 3); each figure is the median of its rounds. It prints the
frame rate ratio (on / off), the render thread's time a frame in the NDI output (the readback's
packing pass, read and hand-over, and the metadata chore), and the frames dropped.

llvmpipe draws a frame only when something needs its pixels (the readback, or the next frame's
passes), so in both runs a glFinish right after the frame is drawn takes that drawing out of the
NDI output's time; it is printed apart (the render thread waits for it with NDI or without:
measured here, a glFinish after each frame leaves the loop's frame time as it was).
"""

from __future__ import annotations

import statistics
import time

from installation.render.platform import choose

choose(offscreen=True)

from liveloop import FrameClock, demo_player, in_turns, rounds_from_command_line  # noqa: E402
from OpenGL import GL  # noqa: E402

from installation.outputs.ndi import open_ndi  # noqa: E402
from installation.render.loop import Chore, Readback  # noqa: E402
from installation.render.readback import PixelFormat  # noqa: E402

SIZES = ((1280, 720), (1920, 1080))


class Timed:
    """An output whose time on the render thread is summed."""

    def __init__(self, output=None) -> None:
        self.output, self.seconds = output, 0.0

    def after_frame(self, frame) -> None:
        started = time.perf_counter()
        self.output.after_frame(frame)
        self.seconds += time.perf_counter() - started

    def close(self) -> None:
        self.output.close()


class Finished(Timed):
    """The frame drawn to its last pixel (glFinish), timed: llvmpipe's drawing of the frame."""

    def after_frame(self, frame) -> None:
        started = time.perf_counter()
        GL.glFinish()
        self.seconds += time.perf_counter() - started

    def close(self) -> None:
        pass


def loop_run(condition: tuple[tuple[int, int], bool]) -> tuple[float, float, float, int]:
    """Mean frame seconds, the render thread's seconds a frame on NDI and finishing the frame,
    frames dropped."""
    size, sending = condition
    player = demo_player(None, None, size)
    timed: list[Timed] = []
    finished = Finished()
    dropped = 0
    if sending:
        sender = open_ndi(f"metamorph-bench-{size[0]}", size, 60.0, PixelFormat.UYVY)
        readback = Readback(PixelFormat.UYVY, lossless=False, size=size)
        readback.add(sender)
        label = Chore(lambda frame: sender.describe(frame.state.stage.name, frame.state.conductor.index))
        timed = [Timed(readback), Timed(label)]
        player.loop.outputs[:0] = timed
    player.loop.outputs.insert(0, finished)
    clock = FrameClock(player)
    try:
        player.run()
    finally:
        if sending:
            dropped = readback.dropped
            sender.close()
    frames = max(len(clock.frame_seconds()), 1)
    spent = sum(t.seconds for t in timed) / frames
    return statistics.fmean(clock.frame_seconds()), spent, finished.seconds / frames, dropped


def main() -> None:
    rounds = rounds_from_command_line(__doc__.splitlines()[0], "ndi.py")
    conditions = [(size, sending) for size in SIZES for sending in (False, True)]
    runs = in_turns(conditions, rounds, loop_run)
    print(f"the live loop with NDI, {rounds} rounds")
    for size in SIZES:
        off = statistics.median(seconds for seconds, *_ in runs[size, False])
        on = statistics.median(seconds for seconds, *_ in runs[size, True])
        thread = statistics.median(spent for _, spent, _, _ in runs[size, True])
        drawing_off = statistics.median(drawing for _, _, drawing, _ in runs[size, False])
        drawing_on = statistics.median(drawing for _, _, drawing, _ in runs[size, True])
        dropped = sum(lost for *_, lost in runs[size, True])
        print(
            f"  {size[0]}x{size[1]}: {off * 1e3:.2f} ms a frame without, {on * 1e3:.2f} ms with NDI; frame rate "
            f"with / without {off / on:.3f}; {thread * 1e3:.3f} ms a frame on the render thread for NDI "
            f"(llvmpipe finishing the frame before it: {drawing_off * 1e3:.2f} ms without, "
            f"{drawing_on * 1e3:.2f} ms with); {dropped} dropped"
        )


if __name__ == "__main__":
    main()
