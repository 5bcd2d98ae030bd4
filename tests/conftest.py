"""Fixtures shared by the whole suite: isolated keyframe folders and small real photos, and the
unit tier: the tests of UNIT_TIER are marked ``unit`` and may open no socket, start no process
and touch no GL (``pytest -m unit``: the logic alone, in seconds)."""

from __future__ import annotations

import os

# Tests never have a screen: pygame's offscreen driver gives real OpenGL (Mesa llvmpipe on EGL).
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.keyframes.contact import contact_sheet
from installation.keyframes.demo import alpine_scene
from installation.keyframes.images import to_uint8
from installation.keyframes.sequence import save_sequence
from tests.helpers import sequence_of

UNIT_TIER = (
    "tests/scene/",
    "tests/test_backoff.py",
    "tests/render/test_frame_times.py",
    "tests/render/test_bench_table.py",
    "tests/render/test_wall_layout.py",
    "tests/keyframes/test_steps.py",
    "tests/keyframes/test_style.py",
    "tests/control/test_analysis.py",
    "tests/control/test_tempo_tap.py",
    "tests/control/test_tempo_onsets.py",
    "tests/visitors/test_desk.py",
    "tests/visitors/test_photos.py",
    "tests/visitors/test_operator.py",
)
"""Test files (or folders) whose tests need no socket, process or GL."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(str(config.rootpath))
    for item in items:
        where = Path(str(item.path)).relative_to(root).as_posix()
        if where.startswith(UNIT_TIER):
            item.add_marker(pytest.mark.unit)


class _NotInTheUnitTier(AssertionError):
    """A unit test opened a socket, started a process or loaded GL: it belongs to another tier."""


@pytest.fixture(autouse=True)
def _unit_tier_stays_pure(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("unit") is None:
        return

    def refuse(what: str):
        def refused(*args, **kwargs):
            raise _NotInTheUnitTier(f"{request.node.nodeid} {what}; move it out of UNIT_TIER (tests/conftest.py)")

        return refused

    monkeypatch.setattr(socket.socket, "__init__", refuse("opened a socket"))
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("started a process"))
    monkeypatch.setattr("installation.render.window.PygameWindow.__init__", refuse("opened a GL window"))


@pytest.fixture(autouse=True)
def isolated_keyframes(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own keyframes and state folders, so nothing is written outside."""
    folder = tmp_path_factory.mktemp("keyframes")
    monkeypatch.setenv("METAMORPH_KEYFRAMES", str(folder))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
    return folder


@pytest.fixture(scope="session")
def small_scene() -> np.ndarray:
    """The demo's alpine scene at 256x144, float sRGB."""
    return alpine_scene(256, 144)


@pytest.fixture
def photo_file(tmp_path: Path, small_scene: np.ndarray) -> Path:
    path = tmp_path / "alps.png"
    Image.fromarray(to_uint8(small_scene)).save(path)
    return path


@pytest.fixture(scope="session")
def sequence_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved three-keyframe sequence at 160x96: the alpine scene, upside down, inverted."""
    scene = to_uint8(alpine_scene(160, 96))
    frames = [scene, np.ascontiguousarray(scene[::-1]), 255 - scene]
    folder = tmp_path_factory.mktemp("sequences") / "alps"
    save_sequence(folder, sequence_of(frames).manifest, frames, contact_sheet)
    return folder
