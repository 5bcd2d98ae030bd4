"""The frame loop: outputs in order, readback for pixel outputs, and a slow live output that
costs frames (counted) but never the loop's time."""

from __future__ import annotations

import threading

import pytest

from installation.keyframes.demo import alpine_scene
from installation.keyframes.images import to_uint8
from installation.render.framebuffer import Framebuffer
from installation.render.loop import Chore, Frame, FrameLoop, Readback
from installation.render.readback import PixelFormat
from installation.scene.show import FrameState, Show, transition_frame
from installation.scene.stage import prepare_stage
from tests.helpers import sequence_of
from tests.render.conftest import SIZE, make_renderer

SCENE = to_uint8(alpine_scene(*SIZE))
STAGE = prepare_stage(sequence_of([SCENE, 255 - SCENE]), 40)


@pytest.fixture
def loop(gl_window) -> FrameLoop:
    target = Framebuffer(SIZE)
    yield FrameLoop(make_renderer(Show(STAGE)).renderer, target)
    target.delete()


def states(loop: FrameLoop, count: int) -> list[FrameState]:
    return [transition_frame(STAGE, 0, 1, i / count) for i in range(count)]


class Recorder:
    def __init__(self, name: str, log: list[tuple[str, int]]) -> None:
        self.name, self.log = name, log

    def after_frame(self, frame: Frame) -> None:
        self.log.append((self.name, frame.number))

    def close(self) -> None:
        self.log.append((self.name, -1))


class Collect:
    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def write(self, frame: bytes) -> None:
        self.frames.append(frame)


def test_outputs_get_each_shown_frame_in_the_order_added_and_close_in_reverse(loop: FrameLoop) -> None:
    log: list[tuple[str, int]] = []
    loop.add(Recorder("window", log))
    loop.add(Chore(lambda frame: log.append(("osc", frame.state.index_a)), lambda: log.append(("osc", -1))))
    drawn = states(loop, 3)
    loop.draw(drawn[0], shown=False)
    for state in drawn[1:]:
        loop.draw(state)
    loop.close()
    assert log == [("window", 0), ("osc", 0), ("window", 1), ("osc", 0), ("osc", -1), ("window", -1)]


def test_a_capture_readback_writes_every_frame_in_order(loop: FrameLoop) -> None:
    collect = Collect()
    readback = loop.add(Readback(PixelFormat.RGB, lossless=True))
    readback.add(collect)
    pictures = []
    for state in states(loop, 6):
        loop.draw(state)
        pictures.append(loop.target.read().tobytes())
    loop.close()
    assert collect.frames == pictures and len(set(pictures)) == 6


class Stuck:
    """A pixel output whose first write waits until released: a receiver that stalls."""

    def __init__(self) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.frames = 0

    def write(self, frame: bytes) -> None:
        self.frames += 1
        self.entered.set()
        assert self.release.wait(10)


def test_a_stalled_live_output_costs_frames_counted_never_the_loop(loop: FrameLoop) -> None:
    stuck = Stuck()
    readback = loop.add(Readback(PixelFormat.BGRA, lossless=False))
    readback.add(stuck)
    drawn = iter(states(loop, 60))
    while not stuck.entered.is_set() and loop.frames < 20:
        loop.draw(next(drawn))
    assert stuck.entered.wait(10)  # the output is now stuck inside its first frame
    stuck_at = loop.frames
    for state in drawn:
        loop.draw(state)  # would hang here if the loop waited for the output
    stuck.release.set()
    loop.close()
    assert loop.frames == 60
    assert stuck.frames <= 2  # the stuck frame and at most one waiting: none past them
    assert stuck.frames + readback.dropped == 60  # every frame written or counted
    assert readback.dropped >= 60 - stuck_at - 1
