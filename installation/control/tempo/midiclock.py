"""MIDI clock in: 24 ticks a beat, start (0xFA), continue (0xFB), stop (0xFC), song position (0xF2).

mido with python-rtmidi (the ``midi`` extra) hears the input whose name contains ``device``;
a helper thread finds it by name and picks it up again when it comes back, as the controller
input does. The clock is counted on rtmidi's callback thread, which after each message makes a
new immutable reading; the render thread's ``read`` takes that one reference and extrapolates
it, so neither thread ever waits for the other.

The tempo is the slope of a line through the last ``WINDOW`` tick times (three beats), fitted
robustly (Theil-Sen: the median of the slopes between ticks half a window apart), so a few ms of
jitter on each tick move it by a tenth of a BPM, and ticks delivered late in a burst (a busy
machine, a sound server's hiccup) move it not at all while they are fewer than half; the beat
runs along the same line. After start the first tick is beat 0; after song position (in sixteenths) and continue
the first tick is that position. While stopped the ticks go on carrying the tempo and the beat
stands still; a clock that stops ticking for ``STALE`` seconds is no lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from installation.control.midi import _backend, why_no_midi
from installation.scene.tempo import Beat, valid_tempo

log = logging.getLogger(__name__)

PPQN = 24
WINDOW = 72
MIN_TICKS = 12
STALE = 0.5
RETRY_SECONDS = 2.0
SILENT = 5.0
"""Seconds without a message from the connected input before it is looked for again."""


@dataclass(frozen=True)
class _Reading:
    tempo: float
    beat: float
    """The beat at ``anchor`` (clock time of the last tick, on the fitted line)."""
    anchor: float
    last: float
    """When the last tick arrived."""
    playing: bool


class MidiClockSource:
    """The tempo and beat of the MIDI clock on the input whose name contains ``device``."""

    name = "midi"

    def __init__(
        self,
        device: str,
        quantum: float = 4.0,
        backend: Callable[[], Any | None] = _backend,
        now: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.device = device
        self.quantum = quantum
        self.port: str | None = None
        self.received = 0
        self.ticks = 0
        self.rejected = 0
        self._backend = backend
        self._now = now
        self._times: deque[float] = deque(maxlen=WINDOW)
        self._first = 0
        """Tick number (of all ticks heard) of the first time in ``_times``."""
        self._position = 0
        self._pending = True
        self._playing = True
        self._tempo: float | None = None
        self._reading: _Reading | None = None
        self._input: Any = None
        self._heard_at = -1e9
        self._warned = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep_connected, name="midi-clock", daemon=True)
        self._thread.start()

    # The render thread ------------------------------------------------------------------------

    def read(self, show_time: float) -> Beat | None:
        reading = self._reading
        if reading is None:
            return None
        now = self._now()
        locked = now - reading.last < STALE
        beat = reading.beat + (now - reading.anchor) * reading.tempo / 60.0 if reading.playing else reading.beat
        return Beat(reading.tempo, beat, self.quantum, locked=locked, playing=reading.playing, time=now)

    # rtmidi's thread ----------------------------------------------------------------------------

    def receive(self, message: Any, at: float | None = None) -> None:
        """One MIDI message (a mido message), heard at clock time ``at`` (now)."""
        when = self._now() if at is None else at
        self._heard_at = when
        self.received += 1
        kind = message.type
        if kind == "clock":
            self._tick(when)
        elif kind == "start":
            self._position, self._pending, self._playing = 0, True, True
            self._times.clear()  # the ticks after a start or continue need not be in step with those before
            self._publish(when)
        elif kind == "continue":
            self._pending, self._playing = True, True
            self._times.clear()
            self._publish(when)
        elif kind == "stop":
            self._playing = False
            self._publish(when)
        elif kind == "songpos":
            self._position, self._pending = int(message.pos) * PPQN // 4, True
            self._publish(when)

    def _tick(self, when: float) -> None:
        self.ticks += 1
        times = self._times
        if times and when - times[-1] > STALE:
            times.clear()
        if not times:
            self._first = self.ticks
        elif len(times) == times.maxlen:
            self._first += 1
        times.append(when)
        if self._playing:
            if self._pending:
                self._pending = False
            else:
                self._position += 1
        if len(times) >= MIN_TICKS:
            seconds = _tick_seconds(times)
            tempo = 60.0 / (seconds * PPQN) if seconds > 0 else 0.0
            if valid_tempo(tempo):
                self._tempo = tempo
            else:
                self.rejected += 1
        self._publish(when, fitted=len(times) >= MIN_TICKS)

    def _publish(self, when: float, fitted: bool = False) -> None:
        if self._tempo is None:
            return
        times = self._times
        anchor = when
        if fitted and times:
            tick = 60.0 / (self._tempo * PPQN)
            on_line = sorted(t - i * tick for i, t in enumerate(times))  # the line's start, robustly
            anchor = on_line[len(on_line) // 2] + (len(times) - 1) * tick  # the last tick, on the line
        last = times[-1] if times else when
        self._reading = _Reading(self._tempo, self._position / PPQN, anchor, last, self._playing)

    # The connection (helper thread) -------------------------------------------------------------

    def _keep_connected(self) -> None:
        while not self._stop.is_set():
            try:
                self._check()
            except Exception as error:  # a MIDI system failing in any way must not end the show
                log.debug("midi clock: looking for %r failed: %s", self.device, error)
                self._disconnect()
            self._stop.wait(RETRY_SECONDS)

    def _check(self) -> None:
        if self.port is not None and self._now() - self._heard_at < SILENT:
            return  # the clock is there; listing ports (with JACK, a new client each time) would stall it
        backend = self._backend()
        if backend is None:
            self._warn_once(why_no_midi() or "no MIDI system")
            return
        inputs = list(backend.get_input_names())
        if self.port is not None and self.port not in inputs:
            log.warning("midi clock: %s is gone; the show runs free and looks for it again", self.port)
            self._disconnect()
        if self.port is None:
            found = next((p for p in inputs if self.device.lower() in p.lower()), None)
            if found is None:
                self._warn_once(
                    f"no MIDI input's name contains {self.device!r} (inputs: {', '.join(inputs) or 'none'})"
                )
                return
            self._input = backend.open_input(found, callback=self.receive)
            self.port, self._warned, self._heard_at = found, False, self._now()
            log.info("midi clock: listening to %s", found)

    def _warn_once(self, why: str) -> None:
        if not self._warned:
            log.warning("midi clock: %s; the show runs free and looks again every %.0f s", why, RETRY_SECONDS)
            self._warned = True

    def _disconnect(self) -> None:
        port, self._input, self.port = self._input, None, None
        if port is not None:
            try:
                port.close()
            except Exception as error:  # closing a port whose device vanished
                log.debug("midi clock: closing: %s", error)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._disconnect()


def _tick_seconds(times: deque[float]) -> float:
    """The seconds between ticks along ``times``: the median of the slopes between ticks half the
    window apart (Theil-Sen), which a burst of late ticks cannot pull while it is under half."""
    half = len(times) // 2
    listed = list(times)
    slopes = sorted((listed[i + half] - listed[i]) / half for i in range(len(listed) - half))
    return slopes[len(slopes) // 2]
