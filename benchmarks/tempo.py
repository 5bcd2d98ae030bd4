"""Per-frame cost of following a beat: one source read plus the tempo policy's decision.

Run: ``.venv/bin/python benchmarks/tempo.py``. Each source is read as the render loop reads it
(``Show.advance`` calls ``observe`` then ``pacing``); the goal is under 0.1 ms a frame.
"""

from __future__ import annotations

import math
import time

from installation.control.tempo.onsets import OnsetTempo
from installation.control.tempo.tap import TapTempo
from installation.scene.conductor import ConductorState
from installation.scene.modulation import SoundFeatures
from installation.scene.parameters import ParameterValues
from installation.scene.tempo import BeatSource, TempoMap, TempoPolicy

FRAMES = 20000
VALUES = ParameterValues()


def per_frame(source: BeatSource, sound_every: int = 0) -> float:
    policy = TempoPolicy(source)
    resting = ConductorState(0, None, 0.0, False, 0)
    moving = ConductorState(0, 1, 0.3, False, 1)
    onset, quiet = SoundFeatures(onset=True), SoundFeatures()
    start = time.perf_counter()
    for frame in range(FRAMES):
        sound = onset if sound_every and frame % sound_every == 0 else quiet
        policy.observe(frame / 60, 1 / 60, moving if frame % 480 > 240 else resting, sound)
        policy.pacing(VALUES, 0.5).begins(1.0)
    return (time.perf_counter() - start) / FRAMES * 1e3


def main() -> None:
    tap = TapTempo()
    for _ in range(4):
        tap.tap(time.perf_counter() - 2.0 + _ * 0.5)
    sources: list[tuple[str, BeatSource, int]] = [
        ("tempo map (bpm)", TempoMap(128.0), 0),
        ("tempo map (beats)", TempoMap.from_beats([i * 0.47 + 0.01 * math.sin(i) for i in range(2000)]), 0),
        ("tap", tap, 0),
        ("audio onsets (a kick every 28 frames)", OnsetTempo(), 28),
    ]
    try:
        from installation.control.tempo.link import LinkSource, LinkUnavailable

        link = LinkSource()
        sources.append(("Ableton Link", link, 0))
    except LinkUnavailable as error:
        print(f"(Link left out: {error})")
    from installation.control.tempo.midiclock import MidiClockSource

    class Tick:
        type = "clock"

    clock = MidiClockSource("none", backend=lambda: None)
    for i in range(100):
        clock.receive(Tick(), time.perf_counter() - 2.0 + i * 60 / (128 * 24))
    sources.append(("MIDI clock (reading only)", clock, 0))
    for name, source, every in sources:
        print(f"{name:40s} {per_frame(source, every):.4f} ms a frame")
        source.close()
    print(f"{'MIDI clock: one tick on rtmidi thread':40s} {tick_cost():.4f} ms a tick")
    print(f"{'audio onsets: the frame with an onset':40s} {onset_cost():.4f} ms")


def tick_cost() -> float:
    from installation.control.tempo.midiclock import MidiClockSource

    class Tick:
        type = "clock"

    clock = MidiClockSource("none", backend=lambda: None)
    start = time.perf_counter()
    for i in range(5000):
        clock.receive(Tick(), i * 60 / (128 * 24))
    cost = (time.perf_counter() - start) / 5000 * 1e3
    clock.close()
    return cost


def onset_cost() -> float:
    tracker = OnsetTempo()
    period = 60 / 174  # the fastest tempo fills the window with the most onsets
    for i in range(100):
        tracker.onset(i * period)
    start = time.perf_counter()
    for i in range(100, 2100):
        tracker.onset(i * period)
    return (time.perf_counter() - start) / 2000 * 1e3


if __name__ == "__main__":
    main()
