"""A visitor's photo decoded as hostile: size before pixels, upright, without its metadata."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.visitors.desk import Refused
from installation.visitors.photos import LONG_SIDE, MAX_BYTES, save_photo
from tests.helpers import huge_png_bytes


def jpeg(width: int, height: int, exif: Image.Exif | None = None) -> bytes:
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[: height // 2] = (250, 30, 30)  # red on top, as the camera saw it
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", exif=exif or Image.Exif(), quality=95)
    return out.getvalue()


def refusal(data: bytes, tmp_path: Path) -> Refused:
    with pytest.raises(Refused) as refused:
        save_photo(data, tmp_path / "photo.png")
    assert not (tmp_path / "photo.png").exists()
    assert refused.value.reason == "photo"
    return refused.value


def test_a_40_mb_upload_is_refused_by_its_size(tmp_path: Path) -> None:
    assert str(refusal(b"\xff" * (40 * 2**20), tmp_path)) == "The photo is 40 MB; send one under 12 MB."
    assert MAX_BYTES == 12 * 2**20


@pytest.mark.parametrize(("width", "words"), [(20_000, "far too many pixels"), (7_000, "7000x7000 pixels")])
def test_a_huge_square_is_refused_before_its_pixels_are_decoded(width: int, words: str, tmp_path: Path) -> None:
    bomb = huge_png_bytes(width, width)
    assert len(bomb) < 200
    assert f"{words}; send one of at most 33 megapixels." in str(refusal(bomb, tmp_path))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"GIF89a but not really" * 10, "not a photo we can read"),
        (b"<?php system($_GET['c']); ?>", "not a photo we can read"),
        (b"", "not a photo we can read"),
        (jpeg(64, 48)[:300], "damaged or cut short"),
        (huge_png_bytes(64, 64), "damaged or cut short"),
    ],
)
def test_what_is_not_a_whole_photo_is_refused_in_one_sentence(data: bytes, words: str, tmp_path: Path) -> None:
    assert words in str(refusal(data, tmp_path))


def test_a_sideways_phone_photo_is_saved_upright_and_without_its_metadata(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned; the picture is to be rotated 90 degrees clockwise
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0)}  # GPS: where the visitor stood
    path = tmp_path / "photo.png"
    assert save_photo(jpeg(64, 48, exif), path) == (48, 64)
    saved = Image.open(path)
    assert saved.size == (48, 64) and saved.mode == "RGB"
    assert not saved.info.get("exif") and not saved.getexif()
    assert b"PhoneMaker" not in path.read_bytes()
    pixels = np.asarray(saved)
    assert pixels[:, -8:, 0].mean() > 200 and pixels[:, :8, 0].mean() < 60  # the red top is now on the right


def test_a_large_photo_is_shrunk_to_the_long_side(tmp_path: Path) -> None:
    size = save_photo(jpeg(3000, 2000), tmp_path / "photo.png")
    assert size == (LONG_SIDE, round(LONG_SIDE * 2000 / 3000))
