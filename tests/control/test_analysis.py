"""Sound analysis on synthetic signals: silence, a sine burst, low and high tones, clicks."""

from __future__ import annotations

import numpy as np
import pytest

from installation.control.analysis import SoundAnalysis

RATE = 48000
FPS = 60
BLOCK = RATE // FPS


def frames_of(signal: np.ndarray) -> list[np.ndarray]:
    return [signal[i : i + BLOCK] for i in range(0, len(signal) - BLOCK + 1, BLOCK)]


def run(signal: np.ndarray):
    analysis = SoundAnalysis(RATE)
    return [analysis.update(block, 1 / FPS) for block in frames_of(signal)]


def tone(frequency: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def test_silence_stays_silent() -> None:
    features = run(np.zeros(RATE * 2, np.float32))
    assert max(f.level for f in features) == 0.0
    assert not any(f.onset for f in features)


def test_quiet_hiss_is_not_pumped_up_by_the_auto_gain() -> None:
    hiss = np.random.default_rng(0).normal(0, 1e-4, RATE * 4).astype(np.float32)
    assert max(f.level for f in run(hiss)[60:]) < 0.05


def test_a_sine_burst_attacks_fast_and_releases_slowly() -> None:
    signal = np.concatenate([np.zeros(RATE // 2), tone(440, 1.0), np.zeros(2 * RATE)]).astype(np.float32)
    levels = [f.level for f in run(signal)]
    start, stop = 30, 90  # frames where the burst begins and ends
    assert levels[start + 2] > 0.8  # attack: about 10 ms
    assert 0.2 < levels[stop + 6] < 0.8  # release: about 250 ms
    assert levels[stop + 60] < 0.05


@pytest.mark.parametrize("frequency, loudest", [(100, "bass"), (800, "mid"), (5000, "treble")])
def test_bands_follow_the_pitch(frequency: float, loudest: str) -> None:
    mixture = tone(frequency, 1.5) + tone(3000 if loudest != "treble" else 200, 1.5, 0.002)
    last = run(mixture)[-1]
    bands = {"bass": last.bass, "mid": last.mid, "treble": last.treble}
    assert max(bands, key=bands.get) == loudest
    assert bands[loudest] > 0.8


def test_clicks_are_onsets_that_kick() -> None:
    signal = np.zeros(RATE * 2, np.float32)
    clicks = [int(RATE * s) for s in (0.3, 0.8, 1.3)]
    for position in clicks:
        signal[position : position + 200] = 0.9
    features = run(signal)
    onset_frames = [i for i, f in enumerate(features) if f.onset]
    assert onset_frames == [position // BLOCK for position in clicks]
    kicked = onset_frames[0]
    assert features[kicked].kick == 1.0
    assert 0.0 < features[kicked + 20].kick < 0.5
