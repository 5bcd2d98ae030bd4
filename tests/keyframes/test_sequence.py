"""The keyframe format: round trip, every validation error, and the write order."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.errors import UserError
from installation.keyframes.contact import contact_sheet
from installation.keyframes.sequence import (
    CONTACT_SHEET,
    MANIFEST,
    Frame,
    Manifest,
    SequenceError,
    Source,
    load_sequence,
    prepare_output,
    save_sequence,
    threads_for,
)
from tests.helpers import huge_png

WIDTH, HEIGHT = 48, 32


def make_manifest(count: int = 3) -> Manifest:
    frames = [Frame("000.png", "photo")]
    frames += [Frame(f"{i:03d}.png", "step", i * 3, 900 - i * 100) for i in range(1, count - 1)]
    frames += [Frame(f"{count - 1:03d}.png", "final", 3 * count, 1)]
    return Manifest(
        backend="procedural",
        model="procedural",
        prompt="pink waves",
        negative_prompt="",
        seed=3,
        strength=0.75,
        scheduler="ddim",
        guidance=None,
        steps=50,
        steps_executed=37,
        capture_mode="x0",
        width=WIDTH,
        height=HEIGHT,
        frames=tuple(frames),
        source=Source(file="alps.png", sha256="ab" * 32),
        created="2026-11-26T10:00:00+00:00",
        package_version="0.1.0",
        options={"style_words": ["pink", "wavy"]},
    )


def make_frames(count: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8) for _ in range(count)]


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    folder = tmp_path / "seq"
    save_sequence(folder, make_manifest(), make_frames(), contact_sheet)
    return folder


def edit_manifest(folder: Path, change) -> None:
    data = json.loads((folder / MANIFEST).read_text())
    change(data)
    (folder / MANIFEST).write_text(json.dumps(data))


def test_round_trip_keeps_manifest_and_pixels(saved: Path) -> None:
    sequence = load_sequence(saved)
    assert sequence.manifest == make_manifest()
    for loaded, original in zip(sequence.frames, make_frames(), strict=True):
        np.testing.assert_array_equal(loaded, original)
    assert sequence.name == "seq"
    assert Image.open(saved / CONTACT_SHEET).size[0] > WIDTH


def test_saved_folder_holds_no_temporary_files(saved: Path) -> None:
    names = sorted(path.name for path in saved.iterdir())
    assert names == ["000.png", "001.png", "002.png", CONTACT_SHEET, MANIFEST]
    assert (saved / MANIFEST).stat().st_mode & 0o644 == 0o644


def test_manifest_is_written_last(tmp_path: Path) -> None:
    frames = make_frames()
    frames[2] = frames[2][:, :10]  # the third frame fails after two were written
    with pytest.raises(ValueError):
        save_sequence(tmp_path / "seq", make_manifest(), frames)
    assert (tmp_path / "seq" / "001.png").exists()
    assert not (tmp_path / "seq" / MANIFEST).exists()


def test_frame_labels_name_the_step() -> None:
    manifest = make_manifest(4)
    labels = [frame.label(manifest.steps_executed) for frame in manifest.frames]
    assert labels == ["photo", "step 4/37", "step 7/37", "step 13/37 (final)"]


def corrupt(folder: Path) -> None:
    data = (folder / "001.png").read_bytes()
    (folder / "001.png").write_bytes(data[: len(data) // 2])


def resize_frame(folder: Path) -> None:
    Image.new("RGB", (WIDTH + 1, HEIGHT)).save(folder / "002.png")


def link_outside(folder: Path) -> None:
    outside = folder.parent / "elsewhere.png"
    (folder / "001.png").replace(outside)
    os.symlink(outside, folder / "001.png")


def huge_frame(folder: Path) -> None:
    huge_png(folder / "001.png", 20000, 20000)


BROKEN_FOLDERS = {
    "no manifest": (lambda f: (f / MANIFEST).unlink(), "manifest.json is missing"),
    "not json": (lambda f: (f / MANIFEST).write_text("{oops"), "is not valid JSON"),
    "not an object": (lambda f: (f / MANIFEST).write_text("[1, 2]"), "does not hold a JSON object"),
    "newer schema": (lambda f: edit_manifest(f, lambda d: d.update(schema=2)), "newer than the 1"),
    "unknown schema": (lambda f: edit_manifest(f, lambda d: d.update(schema="one")), "unknown schema 'one'"),
    "missing field": (lambda f: edit_manifest(f, lambda d: d.pop("seed")), "lacks the field 'seed'"),
    "wrong type": (lambda f: edit_manifest(f, lambda d: d.update(width="48")), "'width' of the wrong type"),
    "no frames": (lambda f: edit_manifest(f, lambda d: d.update(frames=[])), "lists no frames"),
    "path separator": (
        lambda f: edit_manifest(f, lambda d: d["frames"][1].update(file="sub/001.png")),
        "'sub/001.png', which is not a plain PNG file name",
    ),
    "parent folder": (
        lambda f: edit_manifest(f, lambda d: d["frames"][1].update(file="..")),
        "'..', which is not a plain PNG file name",
    ),
    "backslash": (
        lambda f: edit_manifest(f, lambda d: d["frames"][1].update(file="..\\x.png")),
        "which is not a plain PNG file name",
    ),
    "unknown kind": (
        lambda f: edit_manifest(f, lambda d: d["frames"][1].update(kind="dream")),
        "unknown kind 'dream'",
    ),
    "duplicate frame": (
        lambda f: edit_manifest(f, lambda d: d["frames"][2].update(file="001.png")),
        "the same frame file twice",
    ),
    "unknown capture mode": (
        lambda f: edit_manifest(f, lambda d: d.update(capture_mode="dreams")),
        "unknown capture_mode 'dreams'",
    ),
    "oversized manifest size": (
        lambda f: edit_manifest(f, lambda d: d.update(width=20000, height=20000)),
        "gives a size of 20000x20000",
    ),
    "300-character frame name": (
        lambda f: edit_manifest(f, lambda d: d["frames"][1].update(file="a" * 296 + ".png")),
        "frame 1 names a file of 300 bytes, longer than the 255 a file name can have; make it again",
    ),
    "control character in a name": (
        lambda f: edit_manifest(f, lambda d: d["frames"][1].update(file="a\n.png")),
        "frame 1 names 'a\\n.png', which is not a plain PNG file name",
    ),
    "nested 100k deep": (
        lambda f: (f / MANIFEST).write_text("[" * 100_000 + "]" * 100_000),
        "manifest.json is nested too deeply to be a manifest; make it again",
    ),
    "an integer of 5000 digits": (
        lambda f: (f / MANIFEST).write_text('{"seed": ' + "9" * 5000 + "}"),
        "manifest.json is not valid JSON (Exceeds the limit (4300 digits)",
    ),
    "not UTF-8": (lambda f: (f / MANIFEST).write_bytes(b'{"prompt": "\xff"}'), "manifest.json is not valid JSON ("),
    "strength NaN": (
        lambda f: edit_manifest(f, lambda d: d.update(strength=float("nan"))),
        "has a strength of nan, outside 0..1",
    ),
    "guidance infinite": (
        lambda f: edit_manifest(f, lambda d: d.update(guidance=float("inf"))),
        "has a guidance of inf, not a finite number",
    ),
    "no steps": (lambda f: edit_manifest(f, lambda d: d.update(steps=0)), "has steps 0, below 1"),
    "negative step": (
        lambda f: edit_manifest(f, lambda d: d["frames"][1].update(step=-4)),
        "frame 1 has a step that is not a whole number from 0",
    ),
    "a huge wrong value": (
        lambda f: edit_manifest(f, lambda d: d.update(width=["x" * 10_000] * 1000)),
        "has a 'width' of the wrong type (['xxxxxxxxxxxx...xxxxxxxxxxxxx', ",
    ),
    "unreadable manifest": (lambda f: (f / MANIFEST).chmod(0), "cannot be read (Permission denied); check the folder"),
    "missing frame": (lambda f: (f / "001.png").unlink(), "001.png does not exist"),
    "corrupt frame": (corrupt, "001.png is not a readable image"),
    "frame of another size": (resize_frame, "002.png is 49x32 but"),
    "link leaving the folder": (link_outside, "001.png is a link that leaves"),
    "huge frame": (huge_frame, "001.png is above the 33 MP that is decoded safely"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_FOLDERS))
def test_broken_folder_gives_one_sentence(saved: Path, case: str) -> None:
    if case == "unreadable manifest" and os.geteuid() == 0:
        pytest.skip("root reads any file")
    breaker, expected = BROKEN_FOLDERS[case]
    breaker(saved)
    with pytest.raises(UserError) as raised:
        load_sequence(saved)
    message = str(raised.value)
    assert expected in message
    assert str(saved) in message
    assert "\n" not in message and message.endswith(".") and len(message) < 500


@pytest.mark.parametrize("cores", [1, 4])
def test_frames_load_in_order_and_the_first_broken_frame_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cores: int
) -> None:
    """Frames are decoded on several threads where there are cores: the pixels still come in the
    manifest's order, and of several broken frames the error names the first, as read in order."""
    monkeypatch.setattr("installation.keyframes.sequence.cores", lambda: cores)
    folder = tmp_path / "seq"
    save_sequence(folder, make_manifest(8), make_frames(8))
    for loaded, original in zip(load_sequence(folder).frames, make_frames(8), strict=True):
        np.testing.assert_array_equal(loaded, original)
    (folder / "006.png").unlink()
    data = (folder / "003.png").read_bytes()
    (folder / "003.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="003.png is not a readable image"):
        load_sequence(folder)


def test_frames_loading_behind_a_playing_show_take_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sequence loader's thread decodes on one thread, leaving the other cores to the frames drawn
    meanwhile; the main thread (start-up, capture), which waits for the frames, uses every core."""
    monkeypatch.setattr("installation.keyframes.sequence.cores", lambda: 4)
    seen: list[int] = []
    loader = threading.Thread(target=lambda: seen.append(threads_for(16)))
    loader.start()
    loader.join()
    assert seen == [1]
    assert threads_for(16) == 4 and threads_for(3) == 3


def test_a_link_inside_the_folder_is_fine(saved: Path) -> None:
    (saved / "001.png").replace(saved / "real.png")
    os.symlink(saved / "real.png", saved / "001.png")
    assert len(load_sequence(saved)) == 3


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(SequenceError, match="is not a folder"):
        load_sequence(tmp_path / "nothing")


def test_prepare_output_refuses_a_full_folder_without_force(saved: Path) -> None:
    with pytest.raises(UserError, match="is not empty; choose another --out or add --force"):
        prepare_output(saved, force=False)


def test_prepare_output_with_force_removes_the_old_sequence_manifest_first(saved: Path) -> None:
    (saved / "notes.txt").write_text("keep me")
    prepare_output(saved, force=True)
    assert sorted(path.name for path in saved.iterdir()) == ["notes.txt"]


def test_prepare_output_refuses_an_unwritable_place(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(UserError, match="cannot be written"):
        prepare_output(blocker / "seq", force=False)
    with pytest.raises(UserError, match="is a file, not a folder"):
        prepare_output(blocker, force=False)


def test_manifest_without_options_still_loads(saved: Path) -> None:
    edit_manifest(saved, lambda d: d.pop("options"))
    assert load_sequence(saved).manifest == replace(make_manifest(), options={})


def test_a_folder_name_too_long_for_the_file_system(tmp_path: Path) -> None:
    folder = tmp_path / ("b" * 300)
    with pytest.raises(SequenceError) as raised:
        load_sequence(folder)
    assert (
        str(raised.value)
        == f"{folder} cannot be read (File name too long); check the folder or make it again with `metamorph keyframes`."
    )
