"""The README's table of broken keyframe folders, each through `metamorph play`: one sentence, exit 2."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import huge_png, metamorph


def edit_manifest(folder: Path, change) -> None:
    data = json.loads((folder / "manifest.json").read_text())
    change(data)
    (folder / "manifest.json").write_text(json.dumps(data))


def corrupt(folder: Path) -> None:
    data = (folder / "001.png").read_bytes()
    (folder / "001.png").write_bytes(data[: len(data) // 3])


def link_out(folder: Path) -> None:
    outside = folder.parent / "outside.png"
    shutil.copy(folder / "001.png", outside)
    (folder / "001.png").unlink()
    os.symlink(outside, folder / "001.png")


def emptied(folder: Path) -> None:
    for path in folder.iterdir():
        path.unlink()


TABLE = {
    "no manifest": (lambda f: (f / "manifest.json").unlink(), "manifest.json is missing, so"),
    "a missing frame": (lambda f: (f / "002.png").unlink(), "002.png does not exist; restore it or make it again"),
    "a corrupt PNG": (corrupt, "001.png is not a readable image ("),
    "frames of different sizes": (lambda f: Image.new("RGB", (80, 48)).save(f / "002.png"), "002.png is 80x48 but"),
    "an unknown schema version": (
        lambda f: edit_manifest(f, lambda d: d.update(schema=7)),
        "has schema 7, newer than the 1 this metamorph reads; upgrade metamorph",
    ),
    "a path separator in a name": (
        lambda f: edit_manifest(f, lambda d: d["frames"][1].update(file="../001.png")),
        "'../001.png', which is not a plain PNG file name",
    ),
    "a name of ..": (
        lambda f: edit_manifest(f, lambda d: d["frames"][1].update(file="..")),
        "'..', which is not a plain PNG file name",
    ),
    "a symlink leaving the folder": (link_out, "001.png is a link that leaves"),
    "a 20000x20000 frame": (
        lambda f: huge_png(f / "001.png", 20000, 20000),
        "001.png is above the 33 MP that is decoded safely; downscale it first.",
    ),
    "nothing in it": (emptied, "manifest.json is missing, so"),
    "a 300-character frame name": (
        lambda f: edit_manifest(f, lambda d: d["frames"][1].update(file="a" * 296 + ".png")),
        "frame 1 names a file of 300 bytes, longer than the 255 a file name can have; make it again",
    ),
    "a manifest nested 100k deep": (
        lambda f: (f / "manifest.json").write_text("[" * 100_000 + "]" * 100_000),
        "manifest.json is nested too deeply to be a manifest; make it again",
    ),
}


@pytest.mark.parametrize("case", list(TABLE))
def test_broken_folder(sequence_folder: Path, tmp_path: Path, case: str) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(sequence_folder, folder)
    breaker, expected = TABLE[case]
    breaker(folder)
    result = metamorph(
        "play",
        str(folder),
        "--frames",
        "1",
        "--window",
        "160x96",
        "--osc-port",
        "0",
        "--audio",
        "none",
        "--state",
        "none",
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("metamorph: error: ") and result.stderr.count("\n") == 1
    assert expected in result.stderr and str(folder) in result.stderr
    assert "Traceback" not in result.stderr
