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


def noise(dbfs: float, seconds: float, seed: int = 0) -> np.ndarray:
    """White noise whose RMS is ``dbfs``: a microphone's own hiss."""
    return np.random.default_rng(seed).normal(0, 10 ** (dbfs / 20), int(seconds * RATE)).astype(np.float32)


@pytest.mark.parametrize("dbfs", [-40.0, -50.0])
def test_steady_noise_does_not_drive_the_show(dbfs: float) -> None:
    """A fixed -40 dBFS floor let the auto-gain pump such hiss to full drive (speed x2.18)."""
    analysis = SoundAnalysis(RATE)
    features = [analysis.update(block, 1 / FPS) for block in frames_of(noise(dbfs, 6))]
    settled = features[FPS // 2 :]
    assert max(max(f.level, f.bass, f.mid, f.treble) for f in settled) < 0.05
    assert not any(f.onset for f in features)
    assert analysis.noise_db == pytest.approx(dbfs, abs=2)
    assert analysis.level_db == pytest.approx(dbfs, abs=1)


def test_sound_20_db_above_the_noise_still_drives() -> None:
    """Tone bursts (music-like: loud, quiet, loud) 20 dB above -40 dBFS hiss, after 2 s of hiss."""
    t = np.arange(8 * RATE) / RATE
    bursts = np.sqrt(2) * 0.1 * np.sin(2 * np.pi * 440 * t) * ((t > 2) & (t * 4 % 1 < 0.5))
    analysis = SoundAnalysis(RATE)
    features = [analysis.update(block, 1 / FPS) for block in frames_of(noise(-40, 8) + bursts.astype(np.float32))]
    during = [f.level for f in features[2 * FPS + 10 :]]
    assert np.mean(during) > 0.6 and max(during) > 0.95
    assert analysis.noise_db == pytest.approx(-40, abs=2)  # the music did not lift the floor


def test_noise_that_rises_later_is_learned() -> None:
    """The gain turned up by 20 dB mid-show: the floor climbs to the new hiss within seconds."""
    hiss = np.concatenate([noise(-60, 1), noise(-40, 11, seed=1)])
    analysis = SoundAnalysis(RATE)
    features = [analysis.update(block, 1 / FPS) for block in frames_of(hiss)]
    assert features[FPS + 30].level > 0.5  # at first the louder hiss stands out...
    assert max(f.level for f in features[-FPS:]) < 0.05  # ...then it is the floor
    assert analysis.noise_db == pytest.approx(-40, abs=2)


def test_a_short_gap_between_blocks_holds_the_level() -> None:
    """Blocks arrive unevenly (every 21 ms at JACK's 1024 frames): a frame without new samples
    keeps the last level instead of dipping; a long silence still ends it."""
    analysis = SoundAnalysis(RATE)
    for block in frames_of(tone(440, 1.0)):
        analysis.update(block, 1 / FPS)
    empty = np.zeros(0, np.float32)
    assert analysis.update(empty, 1 / FPS).level > 0.95
    assert [analysis.update(empty, 1 / FPS).level for _ in range(FPS)][-1] < 0.05
