"""A music file is decoded as the show advances (flat memory, the same samples as a whole
decode), and a file ffmpeg cannot read is refused in one line, with ffmpeg's reason."""

from __future__ import annotations

import struct
import subprocess
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from installation.control.analysis import SoundAnalysis
from installation.control.audio import MusicFile
from installation.control.sound import MusicSound
from installation.render.video import ffmpeg, ffmpeg_reason
from tests.helpers import metamorph

FPS = 30.0


def make_audio(path: Path, source: str, seconds: float, rate: int) -> Path:
    """A mono FLAC or WAV of ``seconds`` from one of ffmpeg's own sources (sine, anullsrc)."""
    subprocess.run(
        [ffmpeg(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", f"{source}:sample_rate={rate}"]
        + ["-t", str(seconds), "-ac", "1", "-y", str(path)],
        check=True,
    )
    return path


def whole_decode(path: Path) -> np.ndarray:
    """The file decoded in one go, as ``--audio`` used to read it."""
    result = subprocess.run(
        [
            ffmpeg(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-f",
            "f32le",
            "-ac",
            "1",
            "-ar",
            "44100",
            "-",
        ],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(result.stdout, dtype=np.float32)


def test_streamed_features_equal_the_whole_file_analysis(tmp_path: Path) -> None:
    """48 kHz music (resampled) heard frame by frame, streamed, against the whole decode sliced the same way."""
    path = make_audio(tmp_path / "beats.flac", "sine=frequency=220:beep_factor=4", 7.0, 48000)
    samples = whole_decode(path)
    whole = SoundAnalysis(44100.0)
    music = MusicFile(path)
    assert music.BLOCK_SAMPLES * 4 < samples.size  # the file spans several blocks of the pipe
    streamed = MusicSound(music)
    times = [index / FPS for index in range(int(7.5 * FPS))]  # past the end too
    heard = []
    try:
        for start, stop in zip(times, times[1:], strict=False):
            expected = whole.update(samples[round(start * 44100) : round(stop * 44100)], stop - start)
            heard.append(streamed.listen(start, stop))
            assert heard[-1] == expected
        assert music.between(7.1, 7.5).size == 0
    finally:
        streamed.close()
    assert max(features.level for features in heard) > 0.5  # music was compared, not silence
    assert sum(features.onset for features in heard) >= 2  # and its beeps


def test_going_back_in_time_decodes_the_same_samples_again(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "tone.wav", "sine=frequency=330", 4.0, 44100)
    samples = whole_decode(path)
    music = MusicFile(path)
    try:
        late = music.between(3.0, 3.5).copy()
        np.testing.assert_array_equal(music.between(0.5, 0.6), samples[22050:26460])
        np.testing.assert_array_equal(late, samples[132300:154350])
        np.testing.assert_array_equal(music.between(3.0, 3.5), late)
    finally:
        music.close()


@pytest.mark.slow
def test_an_hour_of_music_is_heard_in_flat_memory(tmp_path: Path) -> None:
    """An hour of silence is a small FLAC but 635 MB decoded; heard second by second, the reader
    holds a few blocks of it at a time."""
    path = make_audio(tmp_path / "hour.flac", "anullsrc=channel_layout=mono", 3600, 8000)
    assert path.stat().st_size < 2_000_000
    whole_bytes = 3600 * 44100 * 4
    tracemalloc.start()
    sound = MusicSound(MusicFile(path))
    try:
        features = [sound.listen(float(second), second + 1.0) for second in range(3601)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        sound.close()
        tracemalloc.stop()
    assert peak < whole_bytes / 50
    assert len(features) == 3601 and all(f.level == 0.0 and not f.onset for f in features)


def test_ffmpeg_reason_is_the_last_clause_of_its_last_line() -> None:
    stderr = (
        "[in#0 @ 0x55c3f55d4d00] Error opening input: Invalid data found when processing input\n"
        "Error opening input file noise.wav.\n"
        "Error opening input files: Invalid data found when processing input\n"
    )
    assert ffmpeg_reason(stderr) == "Invalid data found when processing input"
    assert ffmpeg_reason("[aost#0:0 @ 0x1] av_interleaved_write_frame(): No space left on device\n") == (
        "No space left on device"
    )
    assert ffmpeg_reason("  \n") == ""


@pytest.fixture
def unreadable(tmp_path: Path) -> dict[str, Path]:
    """Random bytes named .wav, and a FLAC cut short inside its first frames."""
    noise = tmp_path / "noise.wav"
    noise.write_bytes(np.random.default_rng(7).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    flac = make_audio(tmp_path / "whole.flac", "sine=frequency=440", 3.0, 44100)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(flac.read_bytes()[:3000])
    return {"noise": noise, "cut": cut}


@pytest.mark.parametrize("name", ["noise", "cut"])
def test_play_refuses_an_unreadable_audio_file_in_one_line(
    sequence_folder: Path, unreadable: dict[str, Path], name: str
) -> None:
    path = unreadable[name]
    result = metamorph(
        "play",
        str(sequence_folder),
        "--audio",
        str(path),
        "--frames",
        "2",
        "--window",
        "160x96",
        "--no-vsync",
        *("--osc-port", "0", "--http-port", "0"),
    )
    reason = {"noise": "Invalid data found when processing input", "cut": "End of file"}[name]
    assert result.returncode == 2
    assert result.stderr == (
        f"metamorph: error: The audio file {path} could not be decoded ({reason}); give a WAV, FLAC or MP3 file.\n"
    )


def wav_of_unknown_codec(path: Path) -> Path:
    """A WAV whose header is valid but names a codec no decoder knows: ffmpeg probes it as one
    second of audio (so capture's check passes) and fails only when decoding."""
    data = bytes(8000)
    fmt = struct.pack("<HHIIHH", 0x1234, 1, 8000, 8000, 1, 8)
    chunks = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(chunks)) + chunks)
    return path


def test_capture_refuses_audio_it_cannot_decode_in_one_line(sequence_folder: Path, tmp_path: Path) -> None:
    music = wav_of_unknown_codec(tmp_path / "odd.wav")
    out = tmp_path / "v.mp4"
    result = metamorph(
        "capture", str(sequence_folder), "--out", str(out), "--size", "160x96", "--quiet", "--audio", str(music)
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"metamorph: error: The audio file {music} could not be decoded (Invalid argument); give a WAV, FLAC or MP3 "
        "file.\n"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["odd.wav"]


def png_bytes(folder: Path) -> list[bytes]:
    return [path.read_bytes() for path in sorted(folder.glob("frame_*.png"))]


@pytest.mark.slow
def test_ranges_with_streamed_music_join_into_the_whole_capture(sequence_folder: Path, tmp_path: Path) -> None:
    """A range hears every frame before its first through the stream, so its frames are the whole run's."""
    music = make_audio(tmp_path / "beats.flac", "sine=frequency=110:beep_factor=8", 2.5, 48000)
    common = ["capture", str(sequence_folder), "--size", "160x96", "--quiet", "--fps", "20", "--audio", str(music)]
    common += ["--hold", "0.3", "--duration", "1", "--diffusion", "0.6", "--audio-gain", "2"]
    for name, extra in (("whole", []), ("head", ["--frames", "0:23"]), ("tail", ["--frames", "23:50"])):
        result = metamorph(*common, "--out", str(tmp_path / name), *extra)
        assert result.returncode == 0, result.stderr
    whole = png_bytes(tmp_path / "whole")
    assert len(whole) == 50 and len(set(whole)) > 25
    assert png_bytes(tmp_path / "head") + png_bytes(tmp_path / "tail") == whole
