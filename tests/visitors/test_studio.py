"""The studio: each wish made by a real ``metamorph keyframes`` worker, whole or not at all."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from installation.keyframes.sequence import load_sequence
from installation.visitors.desk import Wish
from installation.visitors.studio import Failed, Recipe, Studio

SMALL = Recipe(steps=10, captures=3, size=(64, 36), timeout=120.0)


def wish(number: int, prompt: str) -> Wish:
    return Wish(number, f"token{number}", prompt, "visitor", "10.0.0.1")


def test_a_wish_becomes_a_sequence_named_by_time_with_its_prompt(tmp_path: Path, photo_file: Path) -> None:
    studio = Studio(tmp_path / "visitors", SMALL)
    made = asyncio.run(studio.make(wish(7, "--help me; rm -rf ~ 🌊"), photo_file))
    assert made.parent == tmp_path / "visitors" and made.name.startswith("wish-") and made.name.endswith("-7")
    sequence = load_sequence(made)
    assert sequence.manifest.prompt == "--help me; rm -rf ~ 🌊"  # a prompt, never an option or a command
    assert len(sequence) == 3 + 1 and sequence.frames[0].shape == (36, 64, 3)
    assert sorted(path.name for path in (tmp_path / "visitors").iterdir()) == [made.name]


def test_a_wish_past_its_timeout_is_killed_and_leaves_no_half_sequence(tmp_path: Path, photo_file: Path) -> None:
    slow = Recipe(steps=1000, captures=50, size=(2048, 1152), timeout=3.0)
    studio = Studio(tmp_path / "visitors", slow)
    with pytest.raises(Failed) as failed:
        asyncio.run(studio.make(wish(1, "a slow storm"), photo_file))
    assert failed.value.reason == "timeout"
    assert str(failed.value) == "Making the wish took longer than 3 s and was stopped; try a simpler one later."
    assert list((tmp_path / "visitors").iterdir()) == []


def test_a_worker_that_fails_is_said_in_the_visitors_words(tmp_path: Path, photo_file: Path) -> None:
    studio = Studio(tmp_path / "visitors", Recipe(backend="diffusers", model=str(tmp_path / "no-model"), timeout=120))
    with pytest.raises(Failed) as failed:
        asyncio.run(studio.make(wish(2, "a model that is not there"), photo_file))
    assert (failed.value.reason, str(failed.value)) == ("error", "The model could not make this wish; try other words.")
    assert list((tmp_path / "visitors").iterdir()) == []


def test_the_folder_keeps_the_last_sequences_and_the_operator_deletes_by_name_only(
    tmp_path: Path, photo_file: Path, sequence_folder: Path
) -> None:
    folder = tmp_path / "visitors"
    for old in ("wish-20200101-000000-1", "wish-20200102-000000-2"):
        shutil.copytree(sequence_folder, folder / old)
    (folder / ".making-abandoned").mkdir()  # a worker killed with the show
    studio = Studio(folder, SMALL, keep_last=2)
    assert not (folder / ".making-abandoned").exists()
    made = asyncio.run(studio.make(wish(3, "the newest"), photo_file))
    assert [path.name for path in studio.made()] == ["wish-20200102-000000-2", made.name]
    outside = tmp_path / "keep-me"
    shutil.copytree(sequence_folder, outside)
    assert not studio.delete("../keep-me") and not studio.delete("") and not studio.delete("/etc")
    assert outside.exists()
    assert studio.delete("wish-20200102-000000-2") and [path.name for path in studio.made()] == [made.name]
    assert json.loads((made / "manifest.json").read_text())["prompt"] == "the newest"
