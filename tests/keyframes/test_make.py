"""A whole procedural run: frames, manifest, determinism, and what the source prompt asks for."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.cli import main
from installation.errors import UserError
from installation.keyframes.demo import DEMO_PROMPT
from installation.keyframes.make import default_size, make_keyframes, validate
from installation.keyframes.request import KeyframeRequest, Photo
from installation.keyframes.sequence import Source, load_sequence
from tests.media import small_disk


@pytest.fixture(scope="module")
def demo_run(small_scene: np.ndarray, tmp_path_factory: pytest.TempPathFactory):
    photo = Photo(small_scene, Source("alps.png", "0" * 64))
    out = tmp_path_factory.mktemp("run") / "seq"
    return make_keyframes(KeyframeRequest(prompt=DEMO_PROMPT, out=out, photo=photo, seed=7, quiet=True))


def saturated_hues(pixels: np.ndarray) -> np.ndarray:
    hsv = np.asarray(Image.fromarray(pixels).convert("HSV"), dtype=np.float32) / 255.0
    keep = (hsv[..., 1] > 0.25) & (hsv[..., 2] > 0.2)
    return hsv[..., 0][keep] * 360.0


def circular_mean(degrees: np.ndarray) -> float:
    radians = np.deg2rad(degrees)
    return float(np.rad2deg(np.arctan2(np.sin(radians).mean(), np.cos(radians).mean())) % 360)


def luminance(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def test_photo_plus_fifteen_captures(demo_run) -> None:
    manifest = demo_run.manifest
    assert len(demo_run) == 16
    assert [frame.kind for frame in manifest.frames] == ["photo"] + ["step"] * 14 + ["final"]
    steps = [frame.step for frame in manifest.frames[1:]]
    assert steps[-1] == manifest.steps_executed - 1 == 36
    timesteps = [frame.timestep for frame in manifest.frames[1:]]
    assert timesteps == sorted(timesteps, reverse=True)
    assert manifest.source == Source("alps.png", "0" * 64)
    assert manifest.options["style_words"] == ["pink", "violet", "wavy"]
    assert "no neural network" in manifest.model
    assert load_sequence(demo_run.folder).manifest == manifest


def test_last_frame_is_pink_and_violet(demo_run) -> None:
    hues = saturated_hues(demo_run.frames[-1])
    assert hues.size > 0.3 * demo_run.frames[-1][..., 0].size
    assert 260 <= circular_mean(hues) <= 340
    assert not 260 <= circular_mean(saturated_hues(demo_run.frames[0])) <= 340


def test_structure_follows_the_photo(demo_run) -> None:
    photo, last = luminance(demo_run.frames[0]), luminance(demo_run.frames[-1])
    correlation = lambda a, b: np.corrcoef(a.ravel(), b.ravel())[0, 1]  # noqa: E731
    assert correlation(photo, last) > 0.6
    assert correlation(np.flipud(photo), last) < 0.2
    across = lambda p: p - p.mean(axis=1, keepdims=True)  # noqa: E731  the peak, not the layers
    assert correlation(across(photo), across(last)) > 0.35


def test_frames_change_gradually(demo_run) -> None:
    frames = [frame.astype(np.float32) for frame in demo_run.frames]
    jumps = np.array([np.abs(b - a).mean() for a, b in itertools.pairwise(frames)])
    assert jumps.min() > 0
    assert jumps.max() < 2.5 * jumps.mean()


def test_same_arguments_same_bytes_and_seed_matters(small_scene: np.ndarray, tmp_path: Path) -> None:
    photo = Photo(small_scene, Source("alps.png", "0" * 64))
    runs = [
        make_keyframes(
            KeyframeRequest(
                prompt="wavy cubist teal", out=tmp_path / name, photo=photo, seed=seed, captures=4, quiet=True
            )
        )
        for name, seed in (("a", 1), ("b", 1), ("c", 2))
    ]
    files = lambda folder: [(folder / f"{i:03d}.png").read_bytes() for i in range(5)]  # noqa: E731
    assert files(runs[0].folder) == files(runs[1].folder)
    assert files(runs[0].folder)[-1] != files(runs[2].folder)[-1]


def test_from_noise_starts_from_noise(tmp_path: Path) -> None:
    run = make_keyframes(KeyframeRequest(prompt="violet", out=tmp_path / "n", size=(96, 64), captures=5, quiet=True))
    assert [frame.kind for frame in run.manifest.frames] == ["noise", "step", "step", "step", "step", "final"]
    assert run.manifest.source is None and run.manifest.strength == 1.0
    assert run.manifest.steps_executed == 50
    roughness = lambda p: float(np.abs(np.diff(p.astype(np.float32), axis=1)).mean())  # noqa: E731
    assert roughness(run.frames[0]) > 4 * roughness(run.frames[-1])


def test_latent_capture_ends_on_the_same_picture(small_scene: np.ndarray, tmp_path: Path) -> None:
    photo = Photo(small_scene, Source("alps.png", "0" * 64))
    common = dict(prompt="pink", photo=photo, captures=3, quiet=True)
    x0 = make_keyframes(KeyframeRequest(out=tmp_path / "x0", **common))
    latents = make_keyframes(KeyframeRequest(out=tmp_path / "lat", capture_mode="latents", **common))
    assert latents.manifest.capture_mode == "latents"
    assert np.abs(latents.frames[-1].astype(int) - x0.frames[-1].astype(int)).max() <= 1
    assert not np.array_equal(latents.frames[1], x0.frames[1])


def test_size_crops_to_the_requested_frame(small_scene: np.ndarray, tmp_path: Path) -> None:
    photo = Photo(small_scene, Source("alps.png", "0" * 64))
    run = make_keyframes(
        KeyframeRequest(prompt="blue", out=tmp_path / "s", photo=photo, size=(64, 64), captures=2, quiet=True)
    )
    assert run.frames[0].shape == (64, 64, 3)


def test_default_size_is_at_most_1920_in_multiples_of_8() -> None:
    big = Photo(np.zeros((3000, 4000, 3), np.float32), Source("x", ""))
    assert default_size(big) == (1920, 1440)
    odd = Photo(np.zeros((101, 203, 3), np.float32), Source("x", ""))
    assert default_size(odd) == (200, 104)


BAD_REQUESTS = {
    "negative seed": (
        ["--seed", "-1"],
        "argument --seed: '-1' is not a whole number from 0 to 18446744073709551615; give e.g. 0",
    ),
    "seed past 64 bits": (
        ["--seed", str(2**64)],
        "argument --seed: '18446744073709551616' is not a whole number from 0 to 18446744073709551615;",
    ),
    "huge size": (
        ["--size", "99999x99999"],
        "argument --size: '99999x99999' is not a size with sides from 16 to 8192; write it as WIDTHxHEIGHT",
    ),
    "too long a side": (
        ["--size", "16384x16"],
        "argument --size: '16384x16' is not a size with sides from 16 to 8192;",
    ),
    "too many pixels": (["--size", "8192x8192"], "--size 8192x8192 is too large;"),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_impossible_requests_are_one_sentence_before_any_work(capsys, tmp_path: Path, case: str) -> None:
    extra, expected = BAD_REQUESTS[case]
    code = main(["keyframes", "--from-noise", "--prompt", "violet", "--out", str(tmp_path / "o"), "--quiet", *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("metamorph: error: ") and err.count("\n") == 1
    assert expected in err
    assert not (tmp_path / "o").exists()


def test_the_largest_size_is_accepted(tmp_path: Path) -> None:
    validate(KeyframeRequest(prompt="violet", out=tmp_path / "o", size=(7680, 4320), seed=2**64 - 1))


def test_a_full_disk_while_saving_keyframes_is_one_sentence(small_scene: np.ndarray, tmp_path: Path) -> None:
    photo = Photo(small_scene, Source("alps.png", "0" * 64))
    with small_disk(tmp_path / "disk", "64k") as disk:
        out = disk / "seq"
        with pytest.raises(UserError) as raised:
            make_keyframes(KeyframeRequest(prompt="pink waves", out=out, photo=photo, captures=4, quiet=True))
        assert str(raised.value) == (
            f"The keyframes could not be written to {out} (No space left on device); free disk space or choose "
            "another --out, then run again."
        )
        assert not (out / "manifest.json").exists()
