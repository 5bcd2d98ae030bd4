"""The live loop itself, on pygame's offscreen driver: frames, keys, screenshots, bad input."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pygame
import pytest
from PIL import Image

from installation.app import Player, PlayOptions
from installation.scene.show import ShowOptions
from tests.helpers import metamorph, run_without_torch
from installation.scene.conductor import Order

SIZE = (160, 96)


def test_play_runs_frames_and_saves_the_last(sequence_folder: Path, tmp_path: Path) -> None:
    shot = tmp_path / "last.png"
    result = metamorph(
        "play", str(sequence_folder), "--frames", "5", "--fixed-step", "--window", "160x96",
        "--screenshot", str(shot), "--no-vsync",
    )
    assert result.returncode == 0, result.stderr
    picture = np.asarray(Image.open(shot)).astype(int)
    keyframe = np.asarray(Image.open(sequence_folder / "000.png")).astype(int)
    assert np.abs(picture - keyframe).mean() < 1.0  # 5 frames in, the first keyframe rests


def test_play_mid_transition_and_letterbox(sequence_folder: Path, tmp_path: Path) -> None:
    shot = tmp_path / "mid.png"
    result = metamorph(
        "play", str(sequence_folder), "--frames", "240", "--fixed-step", "--window", "320x120",
        "--hold", "1", "--duration", "5", "--screenshot", str(shot), "--no-vsync",
    )
    assert result.returncode == 0, result.stderr
    picture = np.asarray(Image.open(shot)).astype(int)
    assert picture.shape == (120, 320, 3)
    assert picture[:, :50].max() < 8 and picture[:, -50:].max() < 8  # bars beside a 200x120 picture
    middle = picture[:, 60:260]
    assert (middle.sum(-1) < 20).mean() > 0.2  # separate spheres: background shows between them


def test_keys_drive_the_conductor(sequence_folder: Path) -> None:
    player = Player(PlayOptions(show=ShowOptions(sequence_folder, order=Order.FORWARD), window=SIZE, vsync=False, frames=3, fixed_step=True))
    for key in (pygame.K_RIGHT, pygame.K_SPACE, pygame.K_h):
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key))
    player.run()
    conductor = player.show.conductor
    assert conductor.target == 1 and conductor.paused and player.osd


def test_q_quits_before_the_frame_limit(sequence_folder: Path) -> None:
    player = Player(PlayOptions(show=ShowOptions(sequence_folder, order=Order.FORWARD), window=SIZE, vsync=False, frames=1000, fixed_step=True))
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_q))
    player.run()
    assert not player.running and player.show.conductor.resting < 0.1


def test_s_saves_a_screenshot(sequence_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    player = Player(PlayOptions(show=ShowOptions(sequence_folder, order=Order.FORWARD), window=SIZE, vsync=False, frames=2, fixed_step=True))
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_s))
    player.run()
    shots = list(tmp_path.glob("metamorph-*.png"))
    assert len(shots) == 1 and Image.open(shots[0]).size == SIZE


def test_play_never_imports_torch(sequence_folder: Path) -> None:
    result = run_without_torch(["play", str(sequence_folder), "--frames", "2", "--window", "160x96", "--no-vsync"])
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("argv, env_change, expected", [
    (["play", "{tmp}/nothing"], {}, "is not a folder; give a keyframe sequence folder"),
    (["play", "{tmp}"], {}, "manifest.json is missing"),
    (["play", "{seq}", "--frames", "0"], {}, "--frames 0 must be at least 1."),
    (["play", "{seq}"], {"SDL_VIDEODRIVER": None, "DISPLAY": None, "WAYLAND_DISPLAY": None}, "No display was found (DISPLAY is not set); run `metamorph capture`"),
    (["play", "{seq}", "--frames", "1"], {"MESA_GL_VERSION_OVERRIDE": "3.1"}, "OpenGL 3.3 core is needed but llvmpipe"),
])
def test_bad_input_is_one_sentence(sequence_folder: Path, tmp_path: Path, argv, env_change, expected: str) -> None:
    result = metamorph(*(a.format(tmp=tmp_path, seq=sequence_folder) for a in argv), env=env_change)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_osc_reaches_the_live_loop(sequence_folder: Path) -> None:
    from pythonosc.udp_client import SimpleUDPClient

    player = Player(PlayOptions(show=ShowOptions(sequence_folder), window=SIZE, vsync=False, frames=20, fixed_step=True, osc_port=0))
    SimpleUDPClient("127.0.0.1", player.osc.port).send_message("/hue", 77.0)
    SimpleUDPClient("127.0.0.1", player.osc.port).send_message("/next", [])
    time.sleep(0.2)
    player.run()
    assert player.show.parameters.target("hue") == 77.0
    assert player.show.conductor.target == 1


def test_devices_without_a_sound_card(capsys) -> None:
    from installation.cli import main

    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == "No sound input devices found; the show will run silent." or "channels" in out
