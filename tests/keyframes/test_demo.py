"""The built-in demo: the drawn alpine scene and the cached demo sequence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from installation.keyframes import demo
from installation.keyframes.sequence import MANIFEST


def test_scene_is_full_hd_and_deterministic() -> None:
    scene = demo.alpine_scene()
    assert scene.shape == (1080, 1920, 3) and scene.dtype == np.float32
    assert 0.0 <= scene.min() and scene.max() <= 1.0
    np.testing.assert_array_equal(scene, demo.alpine_scene())


def test_scene_has_sky_peak_snow_and_a_mirroring_lake(small_scene: np.ndarray) -> None:
    height, width = small_scene.shape[:2]
    top = small_scene[2, width // 10]
    assert top[2] > top[0] + 0.2  # blue sky
    shore = int(height * 0.66)
    sky = small_scene[..., 2] - small_scene[..., 0] > 0.08
    skyline = np.argmin(sky[:shore], axis=0)  # first row that is not sky, per column
    summit = int(np.argmin(skyline))
    assert 0.5 * width < summit < 0.62 * width  # the horn stands right of centre
    assert skyline[summit] < 0.4 * min(skyline[5], skyline[width - 5])
    assert small_scene[skyline[summit] + 3, summit].min() > 0.75  # a white summit
    upper = small_scene[:shore].mean(-1)
    lake = small_scene[shore:].mean(-1)
    mirrored = upper[::-1][: lake.shape[0]]
    assert np.corrcoef(lake.ravel(), mirrored.ravel())[0, 1] > 0.5
    assert lake.mean() < upper.mean()


@pytest.mark.slow
def test_demo_sequence_is_built_once_then_read_from_cache(isolated_keyframes: Path) -> None:
    sequence = demo.demo_sequence(quiet=True)
    assert sequence.folder == isolated_keyframes / "demo"
    assert len(sequence) == 16 and sequence.frames[0].shape == (1080, 1920, 3)
    assert sequence.manifest.prompt == demo.DEMO_PROMPT
    assert sequence.manifest.source.file == "alpine-scene (drawn by code)"
    stamp = (sequence.folder / MANIFEST).stat().st_mtime_ns
    again = demo.demo_sequence(quiet=True)
    assert (again.folder / MANIFEST).stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(again.frames[-1], sequence.frames[-1])


@pytest.mark.slow
def test_an_incomplete_demo_cache_is_rebuilt(isolated_keyframes: Path) -> None:
    folder = isolated_keyframes / "demo"
    folder.mkdir()
    (folder / "000.png").write_bytes(b"half a frame")
    assert len(demo.demo_sequence(quiet=True)) == 16
