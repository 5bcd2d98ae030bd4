"""The beats of a music file, for ``capture --sync audio``: librosa's beat tracker (ISC, no model).

``music_tempo_map(path)`` finds the beat times once, offline, and returns the ``TempoMap`` that
the capture follows (beat 0, a downbeat, at the first beat found); ``write_beats`` in
``scene/tempo.py`` puts them beside the video. librosa is the optional extra ``tempo``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from installation.scene.tempo import TempoMap


class BeatTrackerUnavailable(RuntimeError):
    """librosa is not installed (one sentence)."""


def beat_times(path: Path, sample_rate: int = 22050) -> tuple[float, np.ndarray]:
    """The tempo (BPM) librosa hears in the music file ``path`` and its beat times (seconds)."""
    try:
        import librosa
    except ImportError as error:
        raise BeatTrackerUnavailable(
            "Finding the beats of a music file needs librosa: run pip install -e '.[tempo]', or give --bpm and --offset."
        ) from error
    samples, rate = librosa.load(str(path), sr=sample_rate, mono=True)
    tempo, beats = librosa.beat.beat_track(y=samples, sr=rate, units="time")
    return float(np.atleast_1d(tempo)[0]), np.asarray(beats, dtype=float)


def music_tempo_map(path: Path, quantum: float = 4.0) -> TempoMap:
    """The tempo map of the music file ``path``; ValueError when it has fewer than two beats."""
    _, times = beat_times(path)
    if len(times) < 2:
        raise ValueError(f"no beat found in {path}: give --bpm and --offset instead")
    return TempoMap.from_beats(times.tolist(), quantum, source="librosa")
