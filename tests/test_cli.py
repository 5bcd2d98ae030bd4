"""The ``metamorph`` command: what users type, what they read, and the exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from installation.cli import main
from installation.keyframes.sequence import CONTACT_SHEET, MANIFEST, load_sequence
from tests.helpers import huge_png, metamorph, run_without_torch

PROMPT = ["--prompt", "Artistic wavy version with subtle pink and violet tones"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_keyframes_writes_sequence_and_contact_sheet(capsys, photo_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "seq"
    code, stdout, stderr = run(capsys, "keyframes", str(photo_file), *PROMPT, "--out", str(out), "--seed", "3")
    assert code == 0
    assert f"contact sheet: {out / CONTACT_SHEET}" in stdout
    assert "denoising" in stderr and "37/37" in stderr
    sequence = load_sequence(out)
    assert len(sequence) == 16 and sequence.manifest.seed == 3
    assert sequence.manifest.source.file == "alps.png"
    assert Image.open(out / CONTACT_SHEET).size[0] > 256


def test_default_output_is_named_after_the_photo(capsys, photo_file: Path, isolated_keyframes: Path) -> None:
    code, _, stderr = run(capsys, "keyframes", str(photo_file), *PROMPT, "--captures", "3", "--quiet")
    assert code == 0 and stderr == ""
    assert len(load_sequence(isolated_keyframes / "alps")) == 4


def test_from_noise_with_size(capsys, tmp_path: Path) -> None:
    out = tmp_path / "noise"
    code, _, _ = run(
        capsys,
        "keyframes",
        "--from-noise",
        "--prompt",
        "cubist violet",
        "--size",
        "96x64",
        "--out",
        str(out),
        "--quiet",
    )
    assert code == 0
    sequence = load_sequence(out)
    assert sequence.manifest.frames[0].kind == "noise" and sequence.frames[0].shape == (64, 96, 3)


def test_force_replaces_a_sequence(capsys, photo_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "seq"
    args = ["keyframes", str(photo_file), *PROMPT, "--out", str(out), "--quiet"]
    assert run(capsys, *args, "--captures", "5")[0] == 0
    assert run(capsys, *args, "--captures", "2", "--force")[0] == 0
    assert len(load_sequence(out)) == 3
    assert not (out / "005.png").exists()


def truncated_photo(tmp_path: Path, photo_file: Path) -> Path:
    data = photo_file.read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    return path


def text_file(tmp_path: Path, photo_file: Path) -> Path:
    path = tmp_path / "notes.jpg"
    path.write_text("not a picture")
    return path


def big_photo(tmp_path: Path, photo_file: Path) -> Path:
    return huge_png(tmp_path / "big.png", 8000, 5000)


def full_folder(tmp_path: Path) -> Path:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("")
    return tmp_path / "full"


def blocked_folder(tmp_path: Path) -> Path:
    (tmp_path / "file").write_text("")
    return tmp_path / "file" / "seq"


BAD_PHOTOS = {
    "missing": (lambda tmp, photo: tmp / "nowhere.jpg", "The photo {path} does not exist; give the path"),
    "truncated": (truncated_photo, "The photo {path} is not a readable image (image file is truncated"),
    "not an image": (text_file, "The photo {path} is not a readable image (cannot identify image file"),
    "too large": (
        big_photo,
        "The photo {path} is 8000x5000 (40 MP), above the 33 MP that is decoded safely; downscale it first.",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_PHOTOS))
def test_bad_photo(capsys, tmp_path: Path, photo_file: Path, case: str) -> None:
    make, expected = BAD_PHOTOS[case]
    path = make(tmp_path, photo_file)
    code, stdout, stderr = run(capsys, "keyframes", str(path), *PROMPT, "--out", str(tmp_path / "o"))
    assert code == 2
    assert stderr.startswith("metamorph: error: " + expected.format(path=path))
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert not (tmp_path / "o" / MANIFEST).exists()


BAD_ARGUMENTS = {
    "empty prompt": (["--prompt", "  "], "The prompt is empty; describe the reinterpretation with --prompt"),
    "no prompt": ([], "No prompt was given; add --prompt"),
    "no captures": (
        [*PROMPT, "--captures", "0"],
        "argument --captures: '0' is not a whole number from 1 to 1000; give e.g. 15",
    ),
    "too many captures": (
        [*PROMPT, "--steps", "10", "--strength", "0.5", "--captures", "6"],
        "--captures 6 is outside 1..5, the steps this run executes (--steps 10 x --strength 0.5); lower --captures or raise --steps.",
    ),
    "no step executed": (
        [*PROMPT, "--steps", "10", "--strength", "0.05"],
        "executes no denoising step (int(steps x strength) is 0); raise --steps or --strength.",
    ),
    "strength above one": (
        [*PROMPT, "--strength", "1.5"],
        "argument --strength: '1.5' is not a finite number from 0.01 to 1; give e.g. 0.75",
    ),
    "photo and noise": ([*PROMPT, "--from-noise"], "Both a photo"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_bad_arguments(capsys, photo_file: Path, tmp_path: Path, case: str) -> None:
    extra, expected = BAD_ARGUMENTS[case]
    code, _, stderr = run(capsys, "keyframes", str(photo_file), "--out", str(tmp_path / "o"), *extra)
    assert code == 2
    assert expected in stderr and stderr.count("\n") == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "make_folder, expected",
    [
        (full_folder, "is not empty; choose another --out or add --force to replace it."),
        (blocked_folder, "cannot be written (Not a directory); choose another --out."),
    ],
)
def test_unusable_output_folder(capsys, photo_file: Path, tmp_path: Path, make_folder, expected: str) -> None:
    out = make_folder(tmp_path)
    code, _, stderr = run(capsys, "keyframes", str(photo_file), *PROMPT, "--out", str(out))
    assert code == 2 and f"The output folder {out} " in stderr and expected in stderr


def test_no_photo_explains_the_choices(capsys) -> None:
    code, _, stderr = run(capsys, "keyframes", *PROMPT)
    assert code == 2 and "No photo was given; name a photo file, or add --from-noise" in stderr


def test_bad_size_is_an_argparse_error(capsys, photo_file: Path) -> None:
    assert main(["keyframes", str(photo_file), *PROMPT, "--size", "big"]) == 2
    assert "write it as WIDTHxHEIGHT" in capsys.readouterr().err


def test_real_process_exit_code_and_debug_traceback(tmp_path: Path) -> None:
    plain = metamorph("keyframes", str(tmp_path / "none.png"), *PROMPT)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert plain.stderr.strip().endswith("give the path of a PNG, JPEG or WebP photo.")
    debug = metamorph("--debug", "keyframes", str(tmp_path / "none.png"), *PROMPT)
    assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr
    after = metamorph("keyframes", str(tmp_path / "none.png"), *PROMPT, "--debug")
    assert "Traceback (most recent call last)" in after.stderr


def test_help_teaches_the_procedural_backend() -> None:
    result = metamorph("keyframes", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "not a neural network" in text and "violet" in text and "--from-noise" in text


def test_keyframes_never_imports_torch(photo_file: Path, tmp_path: Path) -> None:
    result = run_without_torch(
        ["keyframes", str(photo_file), "--prompt", "pink", "--captures", "2", "--quiet", "--out", str(tmp_path / "o")]
    )
    assert result.returncode == 0, result.stderr
