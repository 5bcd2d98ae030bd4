"""Capture on the beat: transitions that land on the bars of a tempo given (--bpm) or of the
music's own beats (--sync audio), the beats written beside the output, ranges that still join."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from installation.capture import capture_pipeline, with_beats
from installation.options import CaptureOptions, ShowOptions, TempoOptions
from installation.scene.conductor import Order
from tests.control.test_tempo_music import click_track
from tests.helpers import metamorph

FPS = 30


def landings(options: CaptureOptions, frames: int) -> list[float]:
    """The show times at which the capture's transitions arrive on their keyframe."""
    beat_options = with_beats(options)
    pipeline = capture_pipeline(beat_options, beat_options.show.first_stage())
    arrived, moving = [], False
    for _ in range(frames):
        state = pipeline.step()
        if moving and not state.conductor.moving:
            arrived.append(state.time)
        moving = state.conductor.moving
    pipeline.sound.close()
    return arrived


def beat_capture(sequence: Path, tempo: TempoOptions, audio: Path | None = None) -> CaptureOptions:
    return CaptureOptions(
        out=Path("unused.mp4"),
        show=ShowOptions(sequence, order=Order.LOOP),
        fps=FPS,
        audio=audio,
        tempo=tempo,
    )


def test_transitions_land_on_the_bars_of_a_given_tempo(sequence_folder: Path) -> None:
    tempo = TempoOptions(bpm=128.0, offset=0.25, transition_beats=4, hold_beats=2)
    arrived = landings(beat_capture(sequence_folder, tempo), 20 * FPS)
    bar = 4 * 60.0 / 128.0
    assert len(arrived) >= 5
    for time in arrived:
        bars = (time - 0.25) / bar
        assert abs(bars - round(bars)) * bar <= 1.0 / FPS + 1e-9, time  # within one frame of a bar line


@pytest.mark.slow
def test_transitions_land_on_the_bars_of_the_musics_beats(sequence_folder: Path, tmp_path: Path) -> None:
    grid = click_track(tmp_path / "clicks.wav", 120.0, 0.5, 20.0)
    options = beat_capture(
        sequence_folder, TempoOptions(sync="audio", transition_beats=4, hold_beats=4), tmp_path / "clicks.wav"
    )
    found = with_beats(options).tempo.beats
    assert found is not None and found.bpm == pytest.approx(120.0, abs=1.0)
    bars = found.times[::4]  # bars counted from the first beat librosa finds
    assert all(min(abs(bar - click) for click in grid) < 0.03 for bar in bars)  # each on a click
    arrived = landings(options, 19 * FPS)
    assert len(arrived) >= 3
    for time in arrived:
        assert min(abs(time - bar) for bar in bars) <= 1.0 / FPS + 1e-9, time  # within one frame of a bar


@pytest.mark.slow
def test_ranges_on_the_beat_join_and_the_beats_are_written(sequence_folder: Path, tmp_path: Path) -> None:
    common = ["capture", str(sequence_folder), "--size", "160x96", "--fps", "20", "--seconds", "4", "--quiet"]
    common += ["--bpm", "140", "--offset", "0.1", "--transition-beats", "2", "--hold-beats", "1"]
    whole = metamorph(*common, "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    parts = [
        metamorph(*common, "--out", str(tmp_path / f"part{n}"), "--frames", r) for n, r in enumerate(["0:33", "33:80"])
    ]
    assert all(part.returncode == 0 for part in parts)
    frames = sorted((tmp_path / "whole").glob("frame_*.png"))
    joined = sorted([*(tmp_path / "part0").glob("frame_*.png"), *(tmp_path / "part1").glob("frame_*.png")])
    assert len(frames) == 80 and [f.read_bytes() for f in joined] == [f.read_bytes() for f in frames]
    written = json.loads((tmp_path / "whole" / "beats.json").read_text())
    assert written["tempo"] == 140.0 and written["offset"] == 0.1
    assert "the beats used are in" in whole.stderr and "tempo: 140.0 BPM given" in whole.stderr


@pytest.mark.slow
def test_ranges_on_the_musics_beats_join_into_the_single_run(sequence_folder: Path, tmp_path: Path) -> None:
    click_track(tmp_path / "clicks.wav", 150.0, 0.3, 6.0)
    common = ["capture", str(sequence_folder), "--size", "160x96", "--fps", "20", "--seconds", "5", "--quiet"]
    common += ["--audio", str(tmp_path / "clicks.wav"), "--sync", "audio", "--transition-beats", "2"]
    common += ["--hold-beats", "1"]
    whole = metamorph(*common, "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    assert "tempo: 150" in whole.stderr  # the tempo found is said
    ranges = ["0:30", "30:61", "61:100"]
    parts = [metamorph(*common, "--out", str(tmp_path / f"part{n}"), "--frames", r) for n, r in enumerate(ranges)]
    assert all(part.returncode == 0 for part in parts), [part.stderr for part in parts]
    frames = sorted((tmp_path / "whole").glob("frame_*.png"))
    joined = sorted(path for n in range(3) for path in (tmp_path / f"part{n}").glob("frame_*.png"))
    assert len(frames) == 100 and [f.read_bytes() for f in joined] == [f.read_bytes() for f in frames]


def test_sync_audio_without_music_is_one_sentence(sequence_folder: Path, tmp_path: Path) -> None:
    result = metamorph("capture", str(sequence_folder), "--sync", "audio", "--out", str(tmp_path / "x.mp4"))
    assert result.returncode == 2
    assert result.stderr.strip().endswith("give it with --audio FILE, or use --bpm.") and result.stderr.count("\n") == 1


@pytest.mark.slow
def test_music_without_beats_is_one_sentence(sequence_folder: Path, tmp_path: Path) -> None:
    silence = tmp_path / "silence.wav"
    with wave.open(str(silence), "wb") as stream:
        stream.setnchannels(1)
        stream.setsampwidth(2)
        stream.setframerate(22050)
        stream.writeframes(bytes(2 * 22050 * 3))
    out = tmp_path / "x.mp4"
    result = metamorph("capture", str(sequence_folder), "--sync", "audio", "--audio", str(silence), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().endswith(f"No beats were found in {silence}; give the tempo with --bpm and --offset.")
    assert result.stderr.count("\n") == 1 and not out.exists()
