"""The beat from the sound: kick tracks made here, as onset times and through the live analysis."""

from __future__ import annotations

import math

import numpy as np
import pytest

from installation.control.analysis import SoundAnalysis
from installation.control.tempo.onsets import OnsetTempo
from installation.scene.modulation import SILENCE
from installation.scene.tempo import Beat

FPS = 60
RATE = 48000


def kicks(tempos: list[tuple[float, int]], start: float = 0.31) -> list[float]:
    """Beat times: ``count`` beats at each ``bpm`` in turn."""
    times, t = [], start
    for bpm, count in tempos:
        for _ in range(count):
            times.append(t)
            t += 60.0 / bpm
    return times


def on_frames(times: list[float]) -> list[float]:
    """Each onset as the frame loop reports it: at the end of the 60 fps frame that heard it."""
    return [math.ceil(t * FPS) / FPS for t in times]


def follow(times: list[float]) -> list[tuple[float, Beat | None]]:
    """Feed frame onsets as the policy does (hear, then read, once a frame); each frame's reading."""
    tracker, found = OnsetTempo(), []
    heard = set(on_frames(times))
    end = max(times) + 0.2
    for frame in range(int(end * FPS) + 1):
        t = frame / FPS
        onset = any(abs(t - h) < 1e-9 for h in heard)
        tracker.hear(t, 1 / FPS, SILENCE.__class__(onset=onset))
        found.append((t, tracker.read(t)))
    return found


def audio_onsets(times: list[float], seconds: float) -> list[tuple[float, Beat | None]]:
    """A synthesized kick drum (a falling 55 Hz thump with a click) on ``times`` and a little
    noise, cut into 60 fps frames, through the live analysis and the tracker."""
    rng = np.random.default_rng(5)
    total = int(seconds * RATE)
    audio = rng.normal(0.0, 0.003, total).astype(np.float32)
    length = int(0.15 * RATE)
    t = np.arange(length) / RATE
    kick = (np.sin(2 * np.pi * (55 + 90 * np.exp(-t / 0.02)) * t) * np.exp(-t / 0.06)).astype(np.float32) * 0.8
    for beat in times:
        at = int(beat * RATE)
        if at + length < total:
            audio[at : at + length] += kick
    analysis, tracker, found = SoundAnalysis(RATE), OnsetTempo(), []
    step = RATE // FPS
    for frame in range(1, total // step):
        features = analysis.update(audio[(frame - 1) * step : frame * step], 1 / FPS)
        tracker.hear(frame / FPS, 1 / FPS, features)
        found.append((frame / FPS, tracker.read(frame / FPS)))
    return found


def held(readings: list[tuple[float, Beat | None]], bpm: float, since: float) -> None:
    """From ``since`` on, every frame is locked to ``bpm`` within 1 BPM."""
    checked = [(t, r) for t, r in readings if t >= since]
    assert checked
    for t, reading in checked:
        assert reading is not None and reading.locked, t
        assert abs(reading.tempo - bpm) < 1.0, (t, reading.tempo)


@pytest.mark.parametrize("bpm", [90.5, 96.0, 128.0, 174.0, 179.0])
def test_a_steady_kick_gives_its_tempo_without_octave_errors(bpm: float) -> None:
    readings = follow(kicks([(bpm, 48)]))
    held(readings, bpm, since=0.31 + 16 * 60 / bpm)  # locked within 4 bars of the first kick


def test_the_beat_lines_up_with_the_kicks() -> None:
    times = kicks([(128.0, 40)])
    readings = dict(follow(times))
    for kick in times[20:]:
        frame = math.ceil(kick * FPS) / FPS
        reading = readings[min(readings, key=lambda t: abs(t - frame))]
        assert reading is not None
        beat = reading.beat - (frame - kick) * 128 / 60  # the beat at the kick itself
        assert abs(beat - round(beat)) < 0.05  # within 25 ms of the kick


@pytest.mark.parametrize(("first", "second"), [(120.0, 140.0), (140.0, 100.0), (128.0, 174.0)])
def test_a_tempo_change_relocks_within_four_bars(first: float, second: float) -> None:
    times = kicks([(first, 32), (second, 48)])
    change = times[32]
    readings = follow(times)
    held(readings[: int(change * FPS) - 1], first, since=0.31 + 16 * 60 / first)
    held(readings, second, since=change + 16 * 60 / second)


def test_no_onsets_no_lock_and_a_silent_input_loses_it() -> None:
    tracker = OnsetTempo()
    assert tracker.read(10.0) is None
    for t in on_frames(kicks([(120.0, 16)])):
        tracker.onset(t)
    reading = tracker.read(8.5)
    assert reading is not None and reading.locked
    silent = tracker.read(8.5 + 5.0)
    assert silent is not None and not silent.locked


def test_random_onsets_give_no_lock() -> None:
    rng = np.random.default_rng(11)
    tracker = OnsetTempo()
    locked = 0
    for t in np.cumsum(rng.exponential(0.3, 200)):
        tracker.onset(float(t))
        locked += tracker.locked
    assert locked < 20


@pytest.mark.parametrize(("bpm", "change"), [(96.0, None), (128.0, None), (174.0, None), (120.0, 140.0)])
def test_kick_tracks_through_the_live_analysis(bpm: float, change: float | None) -> None:
    tempos = [(bpm, 32), (change, 48)] if change else [(bpm, 48)]
    times = kicks(tempos)
    readings = audio_onsets(times, times[-1] + 0.5)
    if change is None:
        held(readings, bpm, since=0.31 + 16 * 60 / bpm)
    else:
        held(readings[: int(times[32] * FPS) - 2], bpm, since=0.31 + 16 * 60 / bpm)
        held(readings, change, since=times[32] + 16 * 60 / change)
