"""The one frame loop under play, capture, thumbnails and Ray chunks: states in, outputs out.

Each frame state is drawn into the loop's target (the whole canvas, or the ``View`` of it that
this machine shows; a wall's tile is then finished with its soft edges and corner pin), then handed to every output in the order they were added: the window's
present and the on-screen display, a screenshot, a progress bar, the chores of a long run (OSC
feedback, MIDI lights, the gallery's heartbeat). Outputs that need the frame's pixels (a video,
a PNG folder, NDI, a wall's sender) sit behind a ``Readback`` of the layout they take, so the
pixels of a frame are read once per layout whatever the number of outputs.

The drivers (``play``, ``capture``) only choose the parts; what a frame is and how it is drawn
is decided here and in the renderer, so the same state gives the same pixels everywhere.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from installation.render.finish import TileFinish
from installation.render.framebuffer import Framebuffer
from installation.render.readback import PixelFormat, PixelReader
from installation.render.renderer import Renderer
from installation.render.view import View
from installation.scene.show import FrameState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Frame:
    """A drawn frame as the outputs see it: its number in the run, its state, and the target it is
    drawn in (valid during the call only: the next frame draws over it)."""

    number: int
    state: FrameState
    target: Framebuffer


class Output(Protocol):
    """Something every drawn frame goes to, on the render thread, right after the draw."""

    def after_frame(self, frame: Frame) -> None: ...

    def close(self) -> None: ...


class PixelOutput(Protocol):
    """Something that takes a frame's pixels, in the layout of the readback it is behind."""

    def write(self, frame: bytes) -> None: ...


AnyOutput = TypeVar("AnyOutput", bound=Output)


class FrameLoop:
    """Draws states into ``target`` and hands each frame to the outputs."""

    def __init__(
        self, renderer: Renderer, target: Framebuffer, view: View | None = None, finish: TileFinish | None = None
    ) -> None:
        self.renderer = renderer
        self.target = target
        self.view = view or View.whole(target.size)
        self.finish = finish
        """A wall tile's soft edges and corner pin, applied before the outputs see the frame."""
        self.outputs: list[Output] = []
        self.heralds: list[Callable[[FrameState], object]] = []
        """Told each shown state before it is drawn: a wall's leader sends it, so that the followers
        draw it while this machine does."""
        self.frames = 0

    def add(self, output: AnyOutput) -> AnyOutput:
        """Hand every frame drawn from now on to ``output`` too, after those added before it."""
        self.outputs.append(output)
        return output

    def draw(self, state: FrameState, shown: bool = True) -> None:
        """Draw ``state``; a frame that is ``shown`` goes to the outputs (one that is not only
        warms up what frames remember: the trails of a range's first frame)."""
        if shown:
            for herald in self.heralds:
                herald(state)
        self.target.bind()
        self.renderer.draw(state, self.view)
        if not shown:
            return
        target = self.finish.apply(self.target, state.values) if self.finish is not None else self.target
        frame = Frame(self.frames, state, target)
        for output in self.outputs:
            output.after_frame(frame)
        self.frames += 1

    def close(self) -> None:
        """Close the outputs, the last added first (a readback hands its last frames on first)."""
        while self.outputs:
            self.outputs.pop().close()
        if self.finish is not None:
            self.finish.delete()


class Chore:
    """A task after each frame (OSC feedback, MIDI lights, the gallery's heartbeat, the window's
    present) registered as an output: ``after`` gets each frame; ``close`` ends it."""

    def __init__(self, after: Callable[[Frame], object], close: Callable[[], object] = lambda: None) -> None:
        self._after = after
        self._close = close

    def after_frame(self, frame: Frame) -> None:
        self._after(frame)

    def close(self) -> None:
        self._close()


class Readback:
    """Each frame read back in one layout and written to the pixel outputs behind it.

    ``lossless`` (a capture): every frame, in order, waiting for the GPU when the ring is full.
    Live: never waits; a frame is dropped (and counted) when the GPU has not finished the
    copies before it, and each output writes on a thread of its own (``Dropping``). ``size``
    scales the frame on the GPU (NDI at ``--ndi-size``); without it the readback follows the
    target's size (a window that is resized).
    """

    def __init__(self, pixel_format: PixelFormat, lossless: bool, size: tuple[int, int] | None = None) -> None:
        self.format = pixel_format
        self.lossless = lossless
        self.size = size
        self.outputs: list[PixelOutput] = []
        self._reader: PixelReader | None = None
        self._lost = 0
        """Frames dropped by readers already replaced (the target changed size)."""

    @property
    def dropped(self) -> int:
        """Frames that never reached every output: at the GPU, or at an output still busy."""
        busy = sum(output.dropped for output in self.outputs if isinstance(output, Dropping))
        return self._lost + (self._reader.dropped if self._reader else 0) + busy

    def add(self, output: PixelOutput) -> PixelOutput:
        """Write each frame's pixels to ``output`` too; live, it writes on its own thread."""
        self.outputs.append(output if self.lossless else Dropping(output))
        return output

    def after_frame(self, frame: Frame) -> None:
        reader = self._reader_for(frame.target)
        if self.lossless:
            reader.request(frame.target)
            if (data := reader.ready()) is not None:
                self._send(data)
            return
        reader.offer(frame.target)
        while (data := reader.poll()) is not None:
            self._send(data)

    def _reader_for(self, target: Framebuffer) -> PixelReader:
        """The reader at the output's size: made at the first frame, made again when the target
        (which sets the size when none is asked for) changes size."""
        size = self.size or target.size
        if self._reader is not None and self._reader.size != size:
            self._finish(self._reader)
            self._reader = None
        if self._reader is None:
            self._reader = PixelReader(size, self.format)
        return self._reader

    def _finish(self, reader: PixelReader) -> None:
        """Hand on the frames ``reader`` has in flight (a capture) or count them dropped (live)."""
        if self.lossless:
            for data in reader.drain():
                self._send(data)
        else:
            self._lost += reader.dropped + reader.in_flight
        reader.delete()

    def _send(self, data: bytes) -> None:
        for output in self.outputs:
            output.write(data)

    def close(self) -> None:
        """Hand on the frames still in flight (a capture's last frames; live ones are dropped),
        then free the GPU's buffers and end the outputs' threads."""
        try:
            if self._reader is not None:
                reader, self._reader = self._reader, None
                self._finish(reader)
        finally:
            for output in self.outputs:
                if isinstance(output, Dropping):
                    output.close()


class Dropping:
    """A pixel output written on a thread of its own, one frame at a time: a frame that arrives
    while the last is still being written is dropped and counted, so a slow receiver or network
    costs frames, never the render loop's time."""

    def __init__(self, output: PixelOutput) -> None:
        self.output = output
        self.written = 0
        self.dropped = 0
        self._waiting: queue.Queue[bytes | None] = queue.Queue(maxsize=1)
        self._thread = threading.Thread(target=self._write, name="pixel-output", daemon=True)
        self._thread.start()

    def write(self, frame: bytes) -> None:
        try:
            self._waiting.put_nowait(frame)
        except queue.Full:
            self.dropped += 1

    def _write(self) -> None:
        while (frame := self._waiting.get()) is not None:
            try:
                self.output.write(frame)
                self.written += 1
            except Exception:  # an output's fault never reaches the show; it is said and counted
                self.dropped += 1
                log.exception("a pixel output failed to take a frame")

    def close(self) -> None:
        """Write the frame still waiting, then end the thread."""
        self._waiting.put(None)
        self._thread.join(timeout=5)


class FrameTimes:
    """How long the live loop's frames take: the frame rate and the 50th and 99th percentile
    frame time of the last ``window`` seconds, and the frames of the whole run that took longer
    than two refresh periods (what an audience sees as a stutter)."""

    def __init__(self, refresh: float = 60.0, window: float = 10.0) -> None:
        self.late_after = 2.0 / refresh
        self.window = window
        self.late = 0
        self._frames: deque[tuple[float, float]] = deque()
        """(when it ended, how long it took) for the frames of the window."""

    def add(self, seconds: float, ended: float) -> None:
        self._frames.append((ended, seconds))
        if seconds > self.late_after:
            self.late += 1
        while self._frames and self._frames[0][0] < ended - self.window:
            self._frames.popleft()

    def report(self) -> dict[str, float | int]:
        """The figures for ``/status`` and the on-screen display (zeros before the first frame)."""
        spans = sorted(seconds for _, seconds in self._frames)
        if not spans:
            return {"fps": 0.0, "p50_ms": 0.0, "p99_ms": 0.0, "late_frames": self.late}
        total = sum(spans)
        return {
            "fps": round(len(spans) / total, 2) if total > 0 else 0.0,
            "p50_ms": round(spans[len(spans) // 2] * 1e3, 2),
            "p99_ms": round(spans[min(len(spans) - 1, int(len(spans) * 0.99))] * 1e3, 2),
            "late_frames": self.late,
        }
