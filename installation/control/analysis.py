"""Sound analysis, once per frame: level, three bands, an attack/release envelope, auto-gain
with a floor, and onsets. Pure numpy; the same code reads a microphone and a music file.
"""

from __future__ import annotations

import math

import numpy as np

from installation.scene.modulation import SoundFeatures

WINDOW = 2048
BANDS = {"bass": (20.0, 250.0), "mid": (250.0, 2000.0), "treble": (2000.0, 8000.0)}
FLOOR = 0.01
"""Auto-gain never amplifies below this level (-40 dBFS), so silence stays silent."""
ATTACK, RELEASE = 0.01, 0.25
PEAK_MEMORY = 8.0
"""Seconds over which the auto-gain forgets a loud passage."""
KICK_DECAY = 0.35
ONSET_RATIO, ONSET_GAP = 1.6, 0.12


class SoundAnalysis:
    """Turns the samples that arrived during a frame into ``SoundFeatures``."""

    def __init__(self, sample_rate: float) -> None:
        self.sample_rate = sample_rate
        self._window = np.zeros(WINDOW, dtype=np.float32)
        self._hann = np.hanning(WINDOW).astype(np.float32)
        frequencies = np.fft.rfftfreq(WINDOW, 1.0 / sample_rate)
        self._bands = {name: (frequencies >= low) & (frequencies < high) for name, (low, high) in BANDS.items()}
        self._peaks = dict.fromkeys(("level", *BANDS), FLOOR)
        self._envelope = dict.fromkeys(("level", *BANDS), 0.0)
        self._average = 0.0
        self._since_onset = math.inf
        self._kick = 0.0

    def update(self, samples: np.ndarray, dt: float) -> SoundFeatures:
        """Analyse ``samples`` (mono float, the frame's new audio) after ``dt`` seconds."""
        samples = np.asarray(samples, dtype=np.float32).ravel()[-WINDOW:]
        self._window = np.concatenate([self._window[samples.size :], samples])
        raw = {"level": float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0}
        spectrum = np.abs(np.fft.rfft(self._window * self._hann)) * (2.0 / WINDOW)
        for name, band in self._bands.items():
            raw[name] = float(np.sqrt(np.mean(np.square(spectrum[band])))) if band.any() else 0.0
        normalised = {name: self._auto_gain(name, value, dt) for name, value in raw.items()}
        envelope = {name: self._follow(name, value, dt) for name, value in normalised.items()}
        onset = self._detect_onset(raw["level"], dt)
        self._kick = 1.0 if onset else self._kick * math.exp(-dt / KICK_DECAY)
        return SoundFeatures(envelope["level"], envelope["bass"], envelope["mid"], envelope["treble"], self._kick, onset)

    def _auto_gain(self, name: str, value: float, dt: float) -> float:
        peak = max(value, self._peaks[name] * math.exp(-dt / PEAK_MEMORY), FLOOR)
        self._peaks[name] = peak
        return min(value / peak, 1.0)

    def _follow(self, name: str, value: float, dt: float) -> float:
        current = self._envelope[name]
        time_constant = ATTACK if value > current else RELEASE
        current += (value - current) * (1.0 - math.exp(-dt / time_constant))
        self._envelope[name] = current
        return current

    def _detect_onset(self, level: float, dt: float) -> bool:
        self._since_onset += dt
        onset = level > ONSET_RATIO * self._average + FLOOR and self._since_onset >= ONSET_GAP
        self._average += (level - self._average) * (1.0 - math.exp(-dt / 0.5))
        if onset:
            self._since_onset = 0.0
        return onset
