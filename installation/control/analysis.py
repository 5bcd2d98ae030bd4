"""Sound analysis, once per frame: level, three bands, an attack/release envelope, auto-gain
above a measured noise floor, and onsets. Pure numpy; the same code reads a microphone and a
music file.

Why a measured floor: a fixed one (it was -40 dBFS) lets the auto-gain pump a microphone's own
hiss up to full drive. The floor follows the quietest recent level: it drops at once to any
quieter frame and climbs only while the level is steady, as noise is and music is not. Sound
drives the show only as far as it rises above that floor.
"""

from __future__ import annotations

import math

import numpy as np

from installation.scene.modulation import SoundFeatures

WINDOW = 2048
BANDS = {"bass": (20.0, 250.0), "mid": (250.0, 2000.0), "treble": (2000.0, 8000.0)}
ABSOLUTE_FLOOR_DB = -80.0
"""Quieter than this is silence: it never drives the show and says nothing about the noise."""
NOISE_CEILING_DB = -30.0
"""The measured floor never climbs above this, so a loud steady sound is never taken for noise."""
NOISE_RISE_DB = 3.0
"""dB per second the floor climbs while the level is steady (a fan switched on, gain turned up)."""
STEADY_DB = 1.5
"""Mean deviation (dB) of the frame level under which the sound counts as steady: white noise
deviates about 0.2 dB from frame to frame, music by several."""
STEADY_SECONDS = 0.5
MARGIN_DB = 6.0
"""The level must rise this far above the noise floor before it drives anything..."""
RANGE_DB = 14.0
"""...and drives fully from this much further up (20 dB above the floor)."""
NOISE_BAND_SHARE = 0.027
"""A band's value for white noise of RMS 1 (the same for every band of the spectrum below): a
band never reaches full drive on what the noise floor alone would put in it."""
GAP_SECONDS = 0.1
"""A frame without new samples repeats the last measure for this long (blocks arrive unevenly);
after that, no samples mean silence."""
SILENT_DB = -120.0
"""What ``level_db`` reports for digital silence (a number, so ``/status`` stays valid JSON)."""
ATTACK, RELEASE = 0.01, 0.25
PEAK_MEMORY = 8.0
"""Seconds over which the auto-gain forgets a loud passage."""
KICK_DECAY = 0.35
ONSET_RATIO, ONSET_GAP = 1.6, 0.12


def decibels(amplitude: float) -> float:
    """``amplitude`` in dBFS, ``SILENT_DB`` for silence."""
    return 20.0 * math.log10(amplitude) if amplitude > 10.0 ** (SILENT_DB / 20.0) else SILENT_DB


class NoiseFloor:
    """The input's noise level in dBFS, measured from the frame levels.

    It is ``ABSOLUTE_FLOOR_DB`` until a frame is louder, then starts at that frame's level (at
    most ``NOISE_CEILING_DB``), follows the level down at once, and up by ``NOISE_RISE_DB`` per
    second only while the level is steady. Music varies, so it cannot lift the floor above its
    own quiet moments; hiss and hum are steady, so they can.
    """

    def __init__(self) -> None:
        self.db = ABSOLUTE_FLOOR_DB
        self._heard = False
        self._mean = 0.0
        self._spread = 2.0 * STEADY_DB

    @property
    def gate_db(self) -> float:
        """Where sound starts to drive the show: the floor plus the margin."""
        return self.db + MARGIN_DB

    def update(self, level_db: float, dt: float) -> None:
        if level_db <= ABSOLUTE_FLOOR_DB:
            return
        if not self._heard:
            self.db, self._mean, self._heard = min(level_db, NOISE_CEILING_DB), level_db, True
            return
        follow = 1.0 - math.exp(-dt / STEADY_SECONDS)
        self._spread += (abs(level_db - self._mean) - self._spread) * follow
        self._mean += (level_db - self._mean) * follow
        if level_db < self.db:
            self.db = level_db
        elif self._spread < STEADY_DB:
            self.db = min(self.db + NOISE_RISE_DB * dt, level_db, NOISE_CEILING_DB)

    def presence(self, level_db: float) -> float:
        """How far ``level_db`` stands above the noise, from 0 (at the gate) to 1 (``RANGE_DB`` over it)."""
        return min(max((level_db - self.gate_db) / RANGE_DB, 0.0), 1.0)


class SoundAnalysis:
    """Turns the samples that arrived during a frame into ``SoundFeatures``.

    Public, read-only for the show's ``/status``: ``level_db`` (the input level of the latest
    samples, dBFS) and ``noise_db`` (the measured noise floor, dBFS; the absolute floor until
    something audible has been heard). ``update(samples, dt) -> SoundFeatures`` once per frame.
    """

    def __init__(self, sample_rate: float) -> None:
        self.sample_rate = sample_rate
        self._window = np.zeros(WINDOW, dtype=np.float32)
        self._hann = np.hanning(WINDOW).astype(np.float32)
        frequencies = np.fft.rfftfreq(WINDOW, 1.0 / sample_rate)
        self._bands = {name: (frequencies >= low) & (frequencies < high) for name, (low, high) in BANDS.items()}
        self._raw = dict.fromkeys(("level", *BANDS), 0.0)
        self._gap = 0.0
        self._noise = NoiseFloor()
        self._peaks = dict.fromkeys(("level", *BANDS), 0.0)
        self._envelope = dict.fromkeys(("level", *BANDS), 0.0)
        self._average = 0.0
        self._since_onset = math.inf
        self._kick = 0.0

    @property
    def level_db(self) -> float:
        return decibels(self._raw["level"])

    @property
    def noise_db(self) -> float:
        return self._noise.db

    def update(self, samples: np.ndarray, dt: float) -> SoundFeatures:
        """Analyse ``samples`` (mono float, the frame's new audio) after ``dt`` seconds."""
        samples = np.asarray(samples, dtype=np.float32).ravel()[-WINDOW:]
        self._hear(samples, dt)
        presence = self._noise.presence(self.level_db)
        normalised = {name: self._auto_gain(name, value, dt) * presence for name, value in self._raw.items()}
        envelope = {name: self._follow(name, value, dt) for name, value in normalised.items()}
        onset = self._detect_onset(self._raw["level"], dt)
        self._kick = 1.0 if onset else self._kick * math.exp(-dt / KICK_DECAY)
        return SoundFeatures(
            envelope["level"], envelope["bass"], envelope["mid"], envelope["treble"], self._kick, onset
        )

    def _hear(self, samples: np.ndarray, dt: float) -> None:
        """Measure the new samples (level, bands, noise floor), or hold the last measure over a short gap."""
        if not samples.size:
            self._gap += dt
            if self._gap > GAP_SECONDS:
                self._raw = dict.fromkeys(self._raw, 0.0)
            return
        self._gap = 0.0
        self._window = np.concatenate([self._window[samples.size :], samples])
        self._raw["level"] = float(np.sqrt(np.mean(np.square(samples))))
        spectrum = np.abs(np.fft.rfft(self._window * self._hann)) * (2.0 / WINDOW)
        for name, band in self._bands.items():
            self._raw[name] = float(np.sqrt(np.mean(np.square(spectrum[band])))) if band.any() else 0.0
        self._noise.update(self.level_db, dt)

    def _auto_gain(self, name: str, value: float, dt: float) -> float:
        """``value`` against its recent peak; the peak never sinks below what the noise gate would give."""
        gate = 10.0 ** (self._noise.gate_db / 20.0) * (1.0 if name == "level" else NOISE_BAND_SHARE)
        peak = max(value, self._peaks[name] * math.exp(-dt / PEAK_MEMORY), gate)
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
        gate = 10.0 ** (self._noise.gate_db / 20.0)
        onset = level > ONSET_RATIO * self._average + gate and self._since_onset >= ONSET_GAP
        self._average += (level - self._average) * (1.0 - math.exp(-dt / 0.5))
        if onset:
            self._since_onset = 0.0
        return onset
