"""Sound sources for the frame pipeline: a live input, or a music file read in step with show time.

Both feed the same analysis, so a capture with ``--audio FILE`` and ``play --audio FILE
--fixed-step`` hear the same samples at the same frames and show the same pictures.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from installation.control.analysis import SoundAnalysis
from installation.control.audio import LiveInput, MusicFile, open_microphone
from installation.scene.modulation import SoundFeatures
from installation.scene.pipeline import NoSound, SoundSource


class LiveSound:
    """A live input: whatever arrived since the last frame (its device lives off the render thread)."""

    def __init__(self, source: LiveInput) -> None:
        self.input = source
        self._analysis: SoundAnalysis | None = None

    def listen(self, start: float, stop: float) -> SoundFeatures:
        samples = self.input.read()
        if self._analysis is None or self._analysis.sample_rate != self.input.sample_rate:
            self._analysis = SoundAnalysis(self.input.sample_rate)
        return self._analysis.update(samples, stop - start)

    def describe(self) -> dict[str, object]:
        """The input's state for ``/status``: connected, which device, why silent, level and noise floor."""
        analysis = self._analysis
        return {
            "input": "live",
            "connected": self.input.connected,
            "device": self.input.device,
            "problem": self.input.problem,
            "level_db": analysis.level_db if analysis else None,
            "noise_db": analysis.noise_db if analysis else None,
        }

    def close(self) -> None:
        self.input.close()


class MusicSound:
    """A music file: the samples between two show times, so frame i hears what plays before it."""

    def __init__(self, music: MusicFile) -> None:
        self.music = music
        self._analysis = SoundAnalysis(music.sample_rate)
        self.heard: list[Callable[[np.ndarray, float], object]] = []
        """Told each frame's samples and their rate (NDI sends them as the show's sound, in step
        with the frames)."""

    def listen(self, start: float, stop: float) -> SoundFeatures:
        samples = self.music.between(start, stop)
        for listener in self.heard:
            listener(samples, self.music.sample_rate)
        return self._analysis.update(samples, stop - start)

    def describe(self) -> dict[str, object]:
        return {"input": "file", "level_db": self._analysis.level_db, "noise_db": self._analysis.noise_db}

    def close(self) -> None:
        self.music.close()


def open_sound(audio: str | Path | None, device: str | None = None) -> SoundSource:
    """``"input"``: the live input (``device`` by name); a path: that music file; None: silence."""
    if audio is None or audio == "none":
        return NoSound()
    if audio == "input":
        live = open_microphone(device)
        return LiveSound(live) if live is not None else NoSound()
    return MusicSound(MusicFile(Path(audio)))
