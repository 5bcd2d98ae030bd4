"""Offline capture read back with the bundled ffmpeg: frames, sizes, rates, music, ranges, errors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from installation import files
from installation.render import video
from tests.helpers import metamorph

SMALL = ["--size", "160x96", "--quiet"]


def decode(path: Path) -> tuple[dict, list[np.ndarray]]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    return meta, [np.frombuffer(frame, np.uint8).reshape(height, width, 3) for frame in reader]


def audio_seconds(path: Path) -> float:
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:a:0", "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    hours, minutes, seconds = re.findall(r"time=(\d+):(\d+):([\d.]+)", result.stderr)[-1]
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.fixture(scope="module")
def music(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1.5 s of a 440 Hz tone, as a WAV file."""
    path = tmp_path_factory.mktemp("music") / "tone.wav"
    rate = 44100
    samples = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(1.5 * rate)) / rate) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as stream:
        stream.setnchannels(1)
        stream.setsampwidth(2)
        stream.setframerate(rate)
        stream.writeframes(samples.tobytes())
    return path


def pngs(folder: Path) -> list[bytes]:
    return [path.read_bytes() for path in sorted(folder.glob("frame_*.png"))]


@pytest.mark.slow
def test_video_has_the_frames_size_and_rate(sequence_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "show.mp4"
    result = metamorph("capture", str(sequence_folder), "--out", str(out), *SMALL, "--fps", "30", "--seconds", "2")
    assert result.returncode == 0, result.stderr
    meta, frames = decode(out)
    assert len(frames) == 60 and meta["size"] == (160, 96) and meta["fps"] == 30
    keyframe = np.asarray(Image.open(sequence_folder / "000.png")).astype(int)
    assert np.abs(frames[0].astype(int) - keyframe).mean() < 6  # at rest, after lossy encoding


@pytest.mark.slow
def test_music_sets_the_length_and_is_muxed(sequence_folder: Path, tmp_path: Path, music: Path) -> None:
    out = tmp_path / "music.mp4"
    result = metamorph("capture", str(sequence_folder), "--out", str(out), *SMALL, "--fps", "30", "--audio", str(music))
    assert result.returncode == 0, result.stderr
    assert len(decode(out)[1]) == 45
    assert video.probe(out).audio
    assert audio_seconds(out) == pytest.approx(1.5, abs=0.1)


def test_default_length_is_one_pass_of_the_sequence(sequence_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "pass"
    result = metamorph(
        "capture",
        str(sequence_folder),
        "--out",
        str(out),
        *SMALL,
        "--fps",
        "10",
        "--order",
        "forward",
        "--hold",
        "1",
        "--duration",
        "2",
    )
    assert result.returncode == 0, result.stderr
    assert len(pngs(out)) == 70  # 3 rests of 1 s and 2 moves of 2 s, at 10 fps


@pytest.mark.slow
def test_same_inputs_same_frames_and_ranges_join_into_the_whole(sequence_folder: Path, tmp_path: Path) -> None:
    common = [
        "capture",
        str(sequence_folder),
        *SMALL,
        "--fps",
        "20",
        "--seconds",
        "3",
        "--hold",
        "0.5",
        "--duration",
        "1.5",
        "--diffusion",
        "0.6",
    ]
    for name, extra in (("a", []), ("b", []), ("head", ["--frames", "0:25"]), ("tail", ["--frames", "25:60"])):
        assert metamorph(*common, "--out", str(tmp_path / name), *extra).returncode == 0
    whole = pngs(tmp_path / "a")
    assert len(whole) == 60 and whole == pngs(tmp_path / "b")
    assert pngs(tmp_path / "head") + pngs(tmp_path / "tail") == whole
    assert sorted(p.name for p in (tmp_path / "tail").iterdir())[0] == "frame_000025.png"


@pytest.mark.slow
def test_video_ranges_concat_into_the_whole(sequence_folder: Path, tmp_path: Path) -> None:
    common = [
        "capture",
        str(sequence_folder),
        *SMALL,
        "--fps",
        "20",
        "--seconds",
        "3",
        "--hold",
        "0.5",
        "--duration",
        "1.5",
        "--quality",
        "95",
    ]
    for name, extra in (("whole.mp4", []), ("head.mp4", ["--frames", "0:30"]), ("tail.mp4", ["--frames", "30:60"])):
        assert metamorph(*common, "--out", str(tmp_path / name), *extra).returncode == 0
    joined = metamorph(
        "concat", str(tmp_path / "head.mp4"), str(tmp_path / "tail.mp4"), "--out", str(tmp_path / "joined.mp4")
    )
    assert joined.returncode == 0, joined.stderr
    whole, parts = decode(tmp_path / "whole.mp4")[1], decode(tmp_path / "joined.mp4")[1]
    assert len(parts) == len(whole) == 60
    worst = max(np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(whole, parts, strict=True))
    assert worst < 3.0  # the same pictures, encoded in two pieces at a quality whose codec error is small


@pytest.fixture(scope="module")
def beats(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s of short loud bursts twice a second, as a WAV file."""
    rate = 44100
    samples = np.zeros(rate * 3, np.float32)
    for start in range(0, len(samples), rate // 2):
        samples[start : start + 2000] = 0.8 * np.sin(np.arange(2000) * 0.3)
    path = tmp_path_factory.mktemp("beats") / "beats.wav"
    with wave.open(str(path), "wb") as stream:
        stream.setnchannels(1)
        stream.setsampwidth(2)
        stream.setframerate(rate)
        stream.writeframes((samples * 32767).astype(np.int16).tobytes())
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    "fps, with_music", [(30, False), (60, False), (30, True)], ids=["30fps", "60fps", "30fps-music"]
)
def test_capture_is_what_play_fixed_step_shows(
    sequence_folder: Path, tmp_path: Path, beats: Path, fps: int, with_music: bool
) -> None:
    # transitions of the set duration, and spheres on black (no backdrop), small enough to leave gaps
    timing = ["--hold", "1", "--duration", "3", "--follow", "0", "--backdrop", "0", "--sphere-size", "0.6"]
    timing += ["--diffusion", "0.2", "--shading", "1"]
    sound = ["--audio", str(beats)] if with_music else []
    moments = [0, round(2.2 * fps)]  # frame 0, and spheres travelling
    captured = metamorph(
        "capture",
        str(sequence_folder),
        "--out",
        str(tmp_path / "cap"),
        *SMALL,
        "--fps",
        str(fps),
        "--frames",
        f"0:{moments[-1] + 1}",
        *timing,
        *sound,
    )
    assert captured.returncode == 0, captured.stderr
    for index in moments:
        shot = tmp_path / f"live-{index}.png"
        live = metamorph(
            "play",
            str(sequence_folder),
            "--frames",
            str(index + 1),
            "--fixed-step",
            str(fps),
            "--window",
            "160x96",
            "--no-vsync",
            "--osc-port",
            "0",
            "--state",
            "none",
            "--screenshot",
            str(shot),
            *timing,
            *(sound or ["--audio", "none"]),
        )
        assert live.returncode == 0, live.stderr
        frame = np.asarray(Image.open(tmp_path / "cap" / f"frame_{index:06d}.png")).astype(int)
        shown = np.asarray(Image.open(shot)).astype(int)
        assert np.abs(frame - shown).max() <= 1, f"frame {index} differs"
    assert (frame.sum(-1) < 20).mean() > 0.1  # the last moment is mid-transition: spheres on black


def test_morph_mode_frame_count_and_cross_fade(sequence_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "morph"
    result = metamorph(
        "capture", str(sequence_folder), "--mode", "morph", "--in-betweens", "4", "--out", str(out), *SMALL
    )
    assert result.returncode == 0, result.stderr
    frames = [np.asarray(Image.open(p)).astype(int) for p in sorted(out.glob("*.png"))]
    assert len(frames) == 2 * (4 + 1) + 1
    keyframes = [np.asarray(Image.open(sequence_folder / f"00{i}.png")).astype(int) for i in range(3)]
    assert np.array_equal(frames[0], keyframes[0]) and np.array_equal(frames[5], keyframes[1])
    expected = keyframes[0] + (keyframes[1] - keyframes[0]) * 2 / 5
    assert np.abs(frames[2] - expected).max() <= 1


@pytest.mark.slow
def test_ctrl_c_leaves_a_playable_video(sequence_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "long.mp4"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "installation",
            "capture",
            str(sequence_folder),
            "--out",
            str(out),
            "--size",
            "640x384",
            "--seconds",
            "600",
        ],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    progress = ""
    while time.monotonic() < deadline and not re.search(r"\b([3-9]\d|\d{3,})/36000", progress):
        progress += process.stderr.read(64)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal does: the whole foreground group
    rest = process.communicate(timeout=60)[1]
    assert process.returncode == 130, rest[-2000:]
    partial = out.with_name(out.name + ".partial")
    assert f"frames are in {partial}, which stays playable" in rest and not out.exists()
    frames = decode(partial)[1]
    assert 30 <= len(frames) < 36000


BAD = {
    "not audio": (["--audio", "{text}"], "holds no sound ffmpeg can read; give a WAV, FLAC or MP3 file."),
    "missing audio": (["--audio", "{tmp}/none.wav"], "The audio file {tmp}/none.wav does not exist"),
    "odd size": (
        ["--size", "161x97"],
        "--size 161x97 is refused: h264 video (yuv420p) needs an even width and height; use --size 160x96.",
    ),
    "prores in mp4": (
        ["--codec", "prores"],
        "--codec prores cannot be stored in a .mp4 file; name the output out.mov or out.mkv.",
    ),
    "unknown codec": (["--codec", "mpeg1"], "--codec mpeg1 is unknown; choose one of h264, h265, prores, av1."),
    "frames past the end": (
        ["--frames", "0:5000", "--seconds", "2"],
        "--frames 0:5000 is outside the 120 frames of this capture (2.00 s at 60 fps)",
    ),
    "unwritable": (["--out", "{text}/sub/out.mp4"], "cannot be written"),
    "exists": (["--out", "{text}"], "exists; choose another --out or add --force"),
    "audio into frames that is not audio": (
        ["--out", "{tmp}/frames", "--audio", "{text}"],
        "holds no sound ffmpeg can read",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_sentence(sequence_folder: Path, tmp_path: Path, case: str) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("no video here")
    argv, expected = BAD[case]
    fill = lambda s: s.format(tmp=tmp_path, text=text)  # noqa: E731
    args = ["capture", str(sequence_folder), "--size", "160x96", "--seconds", "1", "--quiet"]
    if "--out" not in argv:
        args += ["--out", str(tmp_path / "out.mp4")]
    result = metamorph(*args, *map(fill, argv))
    assert result.returncode == 2, result.stderr
    assert fill(expected) in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_missing_encoder_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(video, "encoders", lambda: frozenset({"libx264"}))
    from installation.errors import UserError

    with pytest.raises(UserError, match=r"has no libx265 encoder for --codec h265; choose another --codec"):
        video.check_codec(video.CODECS["h265"], tmp_path / "a.mp4", (160, 96))


def test_this_ffmpeg_has_every_codec() -> None:
    assert {codec.encoder for codec in video.CODECS.values()} <= video.encoders()


@pytest.mark.slow
def test_music_steers_the_captured_show(sequence_folder: Path, tmp_path: Path, beats: Path) -> None:
    path = beats
    common = [
        "capture",
        str(sequence_folder),
        *SMALL,
        "--fps",
        "20",
        "--hold",
        "0.5",
        "--duration",
        "2",
        "--audio",
        str(path),
    ]
    assert metamorph(*common, "--out", str(tmp_path / "steered.mp4")).returncode == 0
    assert metamorph(*common, "--audio-gain", "0", "--out", str(tmp_path / "still.mp4")).returncode == 0
    steered, still = decode(tmp_path / "steered.mp4")[1], decode(tmp_path / "still.mp4")[1]
    assert len(steered) == len(still) == 60
    assert np.abs(steered[0].astype(int) - still[0].astype(int)).mean() < 3  # the same rest, lossily encoded
    assert max(np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(steered, still, strict=True)) > 5


# Data safety: nothing under a final name before it is complete, no part destroyed by a join ----------

from installation.errors import UserError  # noqa: E402
from tests.helpers import wait_for  # noqa: E402
from tests.media import decoded_frames, fill, noise_frame, read_only_folder, small_disk, write_video  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize("spelling", ["same path", "through ..", "hard link"])
def test_concat_refuses_an_output_that_is_one_of_the_parts(tmp_path: Path, spelling: str) -> None:
    a, b = write_video(tmp_path / "a.mp4", 10), write_video(tmp_path / "b.mp4", 5)
    (tmp_path / "sub").mkdir()
    out = {"same path": a, "through ..": tmp_path / "sub" / ".." / "a.mp4", "hard link": tmp_path / "link.mp4"}[
        spelling
    ]
    if spelling == "hard link":
        os.link(a, out)
    result = metamorph("concat", str(a), str(b), "--out", str(out), "--force")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert f"The output {out} is also the part {a}, which joining would destroy; choose another --out." in result.stderr
    assert decoded_frames(a) == 10


@pytest.mark.slow
def test_concat_into_a_read_only_folder_is_one_sentence(tmp_path: Path) -> None:
    a, b = write_video(tmp_path / "a.mp4", 3), write_video(tmp_path / "b.mp4", 3)
    with read_only_folder(tmp_path / "locked") as locked:
        result = metamorph("concat", str(a), str(b), "--out", str(locked / "joined.mp4"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert re.search(
        rf"The output {re.escape(str(locked / 'joined.mp4'))} cannot be written \((Read-only file system|Permission denied)\); choose another --out\.",
        result.stderr,
    )


@pytest.mark.slow
def test_a_join_that_fills_the_disk_leaves_the_older_output_whole(tmp_path: Path) -> None:
    parts = [write_video(tmp_path / f"{name}.mp4", 10, (320, 240), noisy=True) for name in "ab"]
    with small_disk(tmp_path / "disk", "1m") as disk:
        older = write_video(disk / "joined.mp4", 7)
        fill(disk, 48 * 1024)
        result = metamorph("concat", *map(str, parts), "--out", str(older), "--force")
        assert result.returncode == 2 and result.stderr.count("\n") == 1
        assert (
            f"ffmpeg could not join the parts into {older} (" in result.stderr and "check disk space" in result.stderr
        )
        assert decoded_frames(older) == 7
        assert sorted(path.name for path in disk.iterdir()) == ["filler", "joined.mp4"]


@pytest.mark.slow
def test_a_full_disk_while_encoding_leaves_no_video(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "1m") as disk:
        out = disk / "show.mp4"
        with pytest.raises(UserError) as raised:
            writer = video.VideoWriter(out, (320, 240), 10, video.CODECS["h264"], 100, preset="ultrafast")
            for index in range(200):
                writer.write(noise_frame((320, 240), index))
            writer.close()
        assert re.fullmatch(
            rf"ffmpeg could not write {re.escape(str(out))} \(.*No space left on device.*\); check the path, disk space and --codec\.",
            str(raised.value),
        )
        assert list(disk.iterdir()) == []


def test_a_full_disk_while_writing_frames_leaves_every_frame_file_whole(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "1m") as disk:
        folder = disk / "frames"
        folder.mkdir()
        for index in range(8):  # an earlier capture's frames, being replaced
            Image.new("RGB", (160, 120), (index * 30, 0, 0)).save(folder / video.frame_name(index))
        fill(disk, 96 * 1024)
        with pytest.raises(UserError) as raised:
            frames = video.FrameFolder(folder, (160, 120))
            for index in range(8):
                frames.write(noise_frame((160, 120), index))
            frames.close()
        assert re.fullmatch(
            rf"The frame {re.escape(str(folder))}/frame_00000\d\.png could not be written \(No space left on device\); "
            r"free disk space or choose another --out\.",
            str(raised.value),
        )
        names = sorted(path.name for path in folder.iterdir())
        assert names == [video.frame_name(index) for index in range(8)]  # no partial file left behind
        for name in names:
            with Image.open(folder / name) as image:
                image.load()  # whole: the old frame or the new one, never a cut one


@pytest.mark.slow
def test_a_killed_capture_leaves_only_a_playable_partial_that_concat_refuses(
    sequence_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "killed.mp4"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "installation",
            "capture",
            str(sequence_folder),
            "--out",
            str(out),
            "--size",
            "160x96",
            "--seconds",
            "600",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    progress, deadline = "", time.monotonic() + 60
    while time.monotonic() < deadline and not re.search(r"\b([3-9]\d|\d{3,})/36000", progress):
        progress += process.stderr.read(64)
    process.kill()
    process.wait()
    # ffmpeg, in its own session, finishes the file when its input closes
    wait_for(lambda: not any(f"{out}." in arguments for arguments in _command_lines()), 30, "ffmpeg's end")
    [partial] = video.partials_of(out)  # under the killed run's own name: nothing could rename it
    assert not out.exists() and re.fullmatch(r"killed\.mp4\.\d+-[0-9a-f]+\.partial", partial.name)
    assert decoded_frames(partial) >= 30
    result = metamorph("concat", str(out), str(out), "--out", str(tmp_path / "joined.mp4"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert (
        f"The part {out} was never finished (only {partial.name} exists, from an interrupted capture); capture that range again."
        in result.stderr
    )


def _command_lines() -> list[str]:
    """Every running process's command line, to wait for one by its arguments."""
    lines = []
    for entry in Path("/proc").iterdir():
        try:
            lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return lines


# One run, one file: no two runs write into one partial, and none replaces what another finished ----------


@pytest.mark.slow
def test_a_second_capture_to_the_same_out_never_spoils_either(sequence_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "same.mp4"
    argv = [sys.executable, "-m", "installation", "capture", str(sequence_folder), "--out", str(out), *SMALL]
    first = subprocess.Popen([*argv, "--seconds", "10"], stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: video.partials_of(out), 60, "the first capture's partial video")
        os.kill(first.pid, signal.SIGSTOP)  # it holds its half-written video while the second one runs
        second = subprocess.run([*argv, "--seconds", "1"], capture_output=True, text=True, timeout=120)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    errors = first.communicate(timeout=120)[1]
    assert second.returncode == 0, second.stderr
    assert decoded_frames(out) == 60  # the second one's video, whole
    [kept] = video.partials_of(out)
    assert first.returncode == 2 and "Traceback" not in errors
    assert (
        f"{out} was written by another run meanwhile and is left as it is; this run's result is kept as {kept.name}: "
        "rename it to keep it, or run again with --force to replace same.mp4." in errors
    )
    assert decoded_frames(kept) == 600  # the first one's video, whole, under its own name


@pytest.mark.slow
def test_a_kept_partial_is_not_replaced_without_force(sequence_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "show.mp4"
    partial = files.partial_path(out)
    os.replace(write_video(tmp_path / "earlier.mp4", 7), partial)  # what an interrupted capture keeps
    command = ["capture", str(sequence_folder), "--out", str(out), "--seconds", "0.5", *SMALL]
    refused = metamorph(*command)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert (
        f"An interrupted capture's playable {partial} is there; rename it to keep it, or add --force to replace it."
        in refused.stderr
    )
    assert decoded_frames(partial) == 7 and not out.exists()
    forced = metamorph(*command, "--force")
    assert forced.returncode == 0, forced.stderr
    assert decoded_frames(out) == 30 and decoded_frames(partial) == 7  # a whole run leaves the kept one alone


def test_a_signal_while_a_file_is_finished_comes_after_it(caplog: pytest.LogCaptureFixture) -> None:
    done: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        with video.finishing("finishing a test file"):
            os.kill(os.getpid(), signal.SIGINT)
            done.append("finished")
    assert done == ["finished"]
    assert "SIGINT arrived while finishing a test file; that was done first" in caplog.text
