"""The beats of a music file (librosa's beat tracker) on a click track with a known grid."""

from __future__ import annotations

import json
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from installation.control.tempo.music import BeatTrackerUnavailable, music_tempo_map
from installation.scene.tempo import TempoMap, beats_path, write_beats

RATE = 22050


def click_track(path: Path, bpm: float, offset: float, seconds: float) -> list[float]:
    """A WAV file of short clicks on a grid of ``bpm`` from ``offset``; the grid's times."""
    audio = np.zeros(int(seconds * RATE), np.float32)
    t = np.arange(int(0.03 * RATE)) / RATE
    click = (np.sin(2 * np.pi * 1000 * t) * np.exp(-t / 0.005)).astype(np.float32)
    grid = list(np.arange(offset, seconds - 0.1, 60.0 / bpm))
    for beat in grid:
        at = int(beat * RATE)
        audio[at : at + click.size] += click
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((audio * 20000).astype("<i2").tobytes())
    return [float(b) for b in grid]


@pytest.mark.slow
def test_the_beats_of_a_click_track_are_its_grid(tmp_path: Path) -> None:
    pytest.importorskip("librosa")
    grid = click_track(tmp_path / "clicks.wav", 120.0, 0.5, 20.0)
    tempo_map = music_tempo_map(tmp_path / "clicks.wav")
    assert abs(tempo_map.bpm - 120.0) < 1.0
    found = np.array(tempo_map.times)
    nearest = np.min(np.abs(found[:, None] - np.array(grid)[None, :]), axis=1)
    assert np.all(nearest < 0.03)  # every beat found is on a click (librosa's frames are 23 ms)
    assert len(found) >= len(grid) - 4
    written = write_beats(tempo_map, beats_path(tmp_path / "video.mp4"))
    assert TempoMap.from_json(json.loads(written.read_text())).times == tempo_map.times


def test_without_librosa_one_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "librosa", None)
    with pytest.raises(BeatTrackerUnavailable, match="librosa.*--bpm"):
        music_tempo_map(tmp_path / "any.wav")
