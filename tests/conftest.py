"""Fixtures shared by the whole suite: isolated keyframe folders and small real photos."""

from __future__ import annotations

import os

# Tests never have a screen: pygame's offscreen driver gives real OpenGL (Mesa llvmpipe on EGL).
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.keyframes.demo import alpine_scene
from installation.keyframes.images import to_uint8


@pytest.fixture(autouse=True)
def isolated_keyframes(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own keyframes folder, so nothing is written into the checkout."""
    folder = tmp_path_factory.mktemp("keyframes")
    monkeypatch.setenv("METAMORPH_KEYFRAMES", str(folder))
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
