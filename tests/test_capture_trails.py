"""Trails across ranges: a capture split into ``--frames A:B`` ranges joins into the single run,
byte for byte, with the looks that keep trails (each range starts with the trails it would have
had, see ``installation.render.offline.planned_states``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import metamorph

RANGES = ("0:16", "16:33", "33:48")
"""Three ranges of a 2.4 s capture at 20 fps whose edges fall mid-transition, where trails show."""


def pngs(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.glob("frame_*.png"))}


def capture(sequence: Path, out: Path, preset: str, *extra: str) -> None:
    result = metamorph(
        "capture",
        str(sequence),
        "--preset",
        preset,
        "--size",
        "160x96",
        "--fps",
        "20",
        "--seconds",
        "2.4",
        "--hold",
        "0.3",
        "--duration",
        "1.5",
        "--quiet",
        "--out",
        str(out),
        *extra,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["drift", "storm"])
def test_ranges_with_trails_join_into_the_single_run(sequence_folder: Path, tmp_path: Path, preset: str) -> None:
    capture(sequence_folder, tmp_path / "single", preset)
    joined: dict[str, bytes] = {}
    for number, frames in enumerate(RANGES):
        capture(sequence_folder, tmp_path / f"part{number}", preset, "--frames", frames)
        joined |= pngs(tmp_path / f"part{number}")
    single = pngs(tmp_path / "single")
    assert len(single) == 48
    assert joined == single
