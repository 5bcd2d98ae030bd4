"""The live loop itself, on pygame's offscreen driver: frames, keys, screenshots, bad input."""

from __future__ import annotations

import getpass
import multiprocessing
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pygame
import pytest
from PIL import Image

from installation.app import Player
from installation.errors import UserError
from tests.helpers import QUIET_PLAY, metamorph, quiet_options, run_without_torch, wait_for

SIZE = (160, 96)


def test_play_runs_frames_and_saves_the_last(sequence_folder: Path, tmp_path: Path) -> None:
    shot = tmp_path / "last.png"
    result = metamorph(
        "play",
        str(sequence_folder),
        "--frames",
        "5",
        "--fixed-step",
        "--window",
        "160x96",
        "--screenshot",
        str(shot),
        "--no-vsync",
    )
    assert result.returncode == 0, result.stderr
    picture = np.asarray(Image.open(shot)).astype(int)
    keyframe = np.asarray(Image.open(sequence_folder / "000.png")).astype(int)
    assert np.abs(picture - keyframe).mean() < 1.0  # 5 frames in, the first keyframe rests


def test_play_mid_transition_and_letterbox(sequence_folder: Path, tmp_path: Path) -> None:
    shot = tmp_path / "mid.png"
    result = metamorph(
        "play",
        str(sequence_folder),
        "--frames",
        "240",
        "--fixed-step",
        "--window",
        "320x120",
        "--hold",
        "1",
        "--duration",
        "5",
        "--follow",
        "0",
        "--backdrop",
        "0",
        "--sphere-size",
        "0.6",
        "--screenshot",
        str(shot),
        "--no-vsync",
    )
    assert result.returncode == 0, result.stderr
    picture = np.asarray(Image.open(shot)).astype(int)
    assert picture.shape == (120, 320, 3)
    assert picture[:, :50].max() < 8 and picture[:, -50:].max() < 8  # bars beside a 200x120 picture
    middle = picture[:, 60:260]
    assert (middle.sum(-1) < 20).mean() > 0.2  # small spheres, no backdrop: black shows between them


def test_keys_drive_the_conductor(sequence_folder: Path) -> None:
    player = Player(quiet_options(sequence_folder, 3))
    for key in (pygame.K_RIGHT, pygame.K_SPACE, pygame.K_h, pygame.K_b):
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key))
    player.run()
    conductor = player.state.conductor
    assert conductor.target == 1 and conductor.paused and player.osd and player.state.settings.blackout == 1.0


def test_q_quits_before_the_frame_limit(sequence_folder: Path) -> None:
    player = Player(quiet_options(sequence_folder, 1000))
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_q))
    player.run()
    assert not player.running and player.frames == 1


def test_s_saves_a_screenshot(sequence_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    player = Player(quiet_options(sequence_folder, 2))
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_s))
    player.run()
    shots = list(tmp_path.glob("metamorph-*.png"))
    assert len(shots) == 1 and Image.open(shots[0]).size == SIZE


def test_play_never_imports_torch(sequence_folder: Path) -> None:
    result = run_without_torch(["play", str(sequence_folder), "--frames", "2", "--window", "160x96", "--no-vsync"])
    assert result.returncode == 0, result.stderr


def test_play_starts_without_what_only_making_keyframes_or_video_needs(sequence_folder: Path) -> None:
    """The start-up to the first frame imports no progress bar, no contact sheet drawing and no ffmpeg."""
    argv = ["play", str(sequence_folder), "--frames", "1", "--window", "160x96", "--no-vsync", *QUIET_PLAY]
    unwanted = ("tqdm", "installation.keyframes.contact", "imageio_ffmpeg")
    code = (
        "import sys; from installation.cli import main; "
        f"code = main({argv!r}); "
        f"assert code == 0, code; print(sorted(m for m in {unwanted!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    "argv, env_change, expected",
    [
        (["play", "{tmp}/nothing"], {}, "is not a folder; give a keyframe sequence folder"),
        (["play", "{tmp}"], {}, "manifest.json is missing"),
        (["play", "{seq}", "--frames", "0"], {}, "argument --frames: '0' is not a whole number from 1 to"),
        (
            ["play", "{seq}", "--osc-port", "99999"],
            {},
            "argument --osc-port: '99999' is not a whole number from 0 to 65535",
        ),
        (
            ["play", "{seq}", "--watchdog", "-1"],
            {},
            "argument --watchdog: '-1' is not a finite number from 5 to 3600 (or 0: off); give e.g. 15",
        ),
        (
            ["play", "{seq}", "--watchdog", "nan"],
            {},
            "argument --watchdog: 'nan' is not a finite number from 5 to 3600 (or 0: off)",
        ),
        (["play", "{seq}", "--hue", "inf"], {}, "argument --hue: 'inf' is not a finite number"),
        (["play", "{seq}", "--fixed-step", "0"], {}, "argument --fixed-step: '0' is not a finite number from 1 to 240"),
        (["play", "{seq}", "--audio", "{tmp}/missing.wav"], {}, "is neither input, none, nor a music file that exists"),
        (["play", "{seq}", "--osc-allow", "10.0.0.0/99"], {}, "--osc-allow has a value that is not a network"),
        (
            ["capture", "{seq}", "--out", "{tmp}/v.mp4", "--fps", "nan"],
            {},
            "argument --fps: 'nan' is not a finite number",
        ),
        (
            ["capture", "{seq}", "--out", "{tmp}/v.mp4", "--fps", "0.5"],
            {},
            "argument --fps: '0.5' is not a finite number from 1 to 240; give e.g. 60",
        ),
        (
            ["capture", "{seq}", "--out", "{tmp}/v.mp4", "--seconds", "nan"],
            {},
            "argument --seconds: 'nan' is not a finite number",
        ),
        (
            ["capture", "{seq}", "--out", "{tmp}/v.mp4", "--seconds", "1e308"],
            {},
            "argument --seconds: '1e308' is not a finite number from 0.01 to 86400; give e.g. 20",
        ),
        (
            ["capture", "{seq}", "--out", "{tmp}/v.mp4", "--seconds", "-1"],
            {},
            "argument --seconds: '-1' is not a finite number from 0.01 to 86400",
        ),
        (
            ["capture", "{seq}", "--out", "{tmp}/v.mp4", "--seconds", "0"],
            {},
            "argument --seconds: '0' is not a finite number from 0.01 to 86400",
        ),
        (
            ["play", "{seq}"],
            {"SDL_VIDEODRIVER": None, "DISPLAY": None, "WAYLAND_DISPLAY": None},
            "No display was found (DISPLAY is not set); run `metamorph capture`",
        ),
        (
            ["play", "{seq}", "--frames", "1"],
            {"MESA_GL_VERSION_OVERRIDE": "3.1"},
            "OpenGL 3.3 core is needed but llvmpipe",
        ),
    ],
)
def test_bad_input_is_one_sentence(sequence_folder: Path, tmp_path: Path, argv, env_change, expected: str) -> None:
    result = metamorph(*(a.format(tmp=tmp_path, seq=sequence_folder) for a in argv), env=env_change)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_osc_reaches_the_live_loop(sequence_folder: Path) -> None:
    from pythonosc.udp_client import SimpleUDPClient

    player = Player(quiet_options(sequence_folder, 20, osc_port=0))
    SimpleUDPClient("127.0.0.1", player.osc.port).send_message("/hue", 77.0)
    SimpleUDPClient("127.0.0.1", player.osc.port).send_message("/next", [])
    wait_for(lambda: player.osc.counts["received"] >= 2, 2.0, "both messages received")
    player.run()
    assert player.state.settings.hue == 77.0
    assert player.state.conductor.target == 1


def test_status_tells_the_input_what_sound_applies_and_the_beat(sequence_folder: Path) -> None:
    import json
    import socket

    from pythonosc.osc_message import OscMessage

    from installation.options import TempoOptions

    tempo = TempoOptions(sync="tap", transition_beats=2.0)
    player = Player(quiet_options(sequence_folder, 1000, osc_port=0, tempo=tempo))
    asker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    asker.bind(("127.0.0.1", 0))
    asker.settimeout(0.01)
    answers: list[dict] = []
    step = player.pipeline.step

    def asking():
        state = step()
        asker.sendto(b"/status\x00,\x00\x00\x00", ("127.0.0.1", player.osc.port))
        try:
            answers.append(json.loads(OscMessage(asker.recv(65536)).params[0]))
            player.running = False
        except TimeoutError:
            pass
        return state

    player.pipeline.step = asking
    player.run()
    asker.close()
    assert answers and answers[0]["sound"]["input"] == "none" and answers[0]["sequence"] == "alps"
    assert answers[0]["applied"]["speed"] == answers[0]["parameters"]["speed"] == 1.0  # silence moves nothing
    told = answers[0]["tempo"]
    assert (told["sync"], told["locked"], told["transition_beats"]) == ("tap", False, 2.0)  # no taps yet: free
    assert answers[0]["outputs"] == {}
    assert set(answers[0]["timing"]) == {"fps", "p50_ms", "p99_ms", "late_frames"}  # figures: test_frame_times.py


def test_devices_without_a_sound_card() -> None:
    """This machine has no sound card nor ALSA sequencer, and no JACK server runs under the name looked for."""
    result = metamorph("devices", env={"JACK_DEFAULT_SERVER": "metamorph-test-nobody", "JACK_NO_START_SERVER": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "No sound input devices found; the show will run silent.",
        f"No MIDI inputs: there is no MIDI system (no ALSA sequencer, no JACK server) for user {getpass.getuser()}.",
    ]


# Screenshots: refused at start-up when they could never be written, whole or absent, never ending a show ----

from tests.media import fill, small_disk  # noqa: E402

SHORT_PLAY = ["--frames", "2", "--window", "160x96", *QUIET_PLAY]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("shot.txt", "--screenshot {tmp}/shot.txt does not end in .png; name the picture e.g. {tmp}/shot.png."),
        (
            "missing/shot.png",
            "The folder {tmp}/missing of --screenshot {tmp}/missing/shot.png does not exist; create it or choose "
            "another --screenshot.",
        ),
    ],
    ids=["not a png name", "missing folder"],
)
def test_a_screenshot_that_cannot_be_written_is_refused_at_start(
    sequence_folder: Path, tmp_path: Path, name: str, expected: str
) -> None:
    result = metamorph("play", str(sequence_folder), *SHORT_PLAY, "--screenshot", str(tmp_path / name))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert expected.format(tmp=tmp_path) in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_last_screenshot_on_a_full_disk_is_one_sentence_and_no_file(sequence_folder: Path, tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "1m") as disk:
        fill(disk, 0)
        shot = disk / "last.png"
        result = metamorph("play", str(sequence_folder), *SHORT_PLAY, "--screenshot", str(shot))
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert (
            f"The screenshot {shot} could not be saved (No space left on device); free disk space or choose another "
            "--screenshot." in result.stderr
        )
        assert [path.name for path in disk.iterdir()] == ["filler"]  # no empty last.png, no partial


@pytest.mark.slow
def test_the_s_key_on_a_full_disk_warns_and_the_show_goes_on(
    sequence_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with small_disk(tmp_path / "disk", "1m") as disk:
        fill(disk, 0)
        monkeypatch.chdir(disk)
        player = Player(quiet_options(sequence_folder, 4))
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_s))
        player.run()
        assert player.frames == 4  # every frame after the failed picture was shown
        warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
        assert len(warnings) == 1 and re.fullmatch(
            r"The screenshot metamorph-[\d-]+\.png could not be saved \(No space left on device\); free disk space "
            r"or start the show in a folder that can be written\.",
            warnings[0],
        )
        assert [path.name for path in disk.iterdir()] == ["filler"]


def test_a_start_that_fails_half_way_closes_what_it_opened(sequence_folder: Path, tmp_path: Path) -> None:
    """A bad --audio file is found after the OSC thread and the web process started: both end,
    their ports are free again, and the error is the file's one sentence."""
    noise = tmp_path / "noise.wav"
    noise.write_bytes(bytes(range(256)) * 40)
    threads = {thread.ident for thread in threading.enumerate()}
    options = quiet_options(sequence_folder, 3, osc_port=0, http_port=0, audio=str(noise))
    opened: list[int] = []
    listen = socket.socket.listen

    def note_port(sock: socket.socket, *args) -> None:  # the web server's port, chosen by the system
        opened.append(sock.getsockname()[1])
        listen(sock, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "listen", note_port)
        with pytest.raises(UserError, match="noise.wav") as refused:
            Player(options)
    assert "\n" not in str(refused.value)
    assert opened and multiprocessing.active_children() == []  # the web process was started, and ended
    with socket.socket() as again:
        again.bind(("0.0.0.0", opened[0]))  # its port is free
    assert {thread.ident for thread in threading.enumerate()} == threads  # the OSC thread ended
