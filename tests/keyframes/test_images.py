"""Photos and keyframes arrive as a viewer shows them: upright, and 16-bit files at their real brightness."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.errors import UserError
from installation.keyframes.contact import contact_sheet
from installation.keyframes.make import load_photo
from installation.keyframes.sequence import load_sequence, save_sequence
from tests.helpers import sequence_of

ORIENTATION = 0x0112
GREY_16 = 30000  # 30000 / 257 = 116.7: mid grey, which Pillow's own conversion turns white


def png_16bit(path: Path, pixels: np.ndarray) -> Path:
    """A 16-bit PNG written chunk by chunk (Pillow cannot write 16-bit colour): H x W x C, C in 1..4."""
    height, width, channels = pixels.shape
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = b"".join(b"\0" + pixels[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )
    return path


def test_an_exif_rotated_portrait_photo_comes_out_upright(tmp_path: Path) -> None:
    stored = Image.new("RGB", (80, 40), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 40, 40))  # left half red, as the camera stored it
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # "rotate 90 degrees clockwise to view": a portrait taken with the camera on its side
    path = tmp_path / "portrait.jpg"
    stored.save(path, exif=exif, quality=95)
    pixels = load_photo(path).pixels
    assert pixels.shape == (80, 40, 3)  # portrait, not landscape
    assert pixels[10, 20, 0] > 0.9 and pixels[10, 20, 2] < 0.1  # the stored left half is now on top
    assert pixels[70, 20, 2] > 0.9 and pixels[70, 20, 0] < 0.1


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_a_16bit_photo_keeps_its_brightness(tmp_path: Path, channels: int) -> None:
    path = png_16bit(tmp_path / "photo16.png", np.full((8, 12, channels), GREY_16, np.uint16))
    pixels = load_photo(path).pixels
    assert pixels.shape == (8, 12, 3)
    assert np.all(np.abs(pixels * 255 - GREY_16 / 257) <= 1.0)


def test_a_16bit_grey_photo_saved_by_pillow_keeps_its_gradient(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 65535, 16).astype(np.uint16), (4, 1))
    Image.fromarray(ramp).save(tmp_path / "ramp.png")  # mode I;16
    pixels = load_photo(tmp_path / "ramp.png").pixels[0, :, 0] * 255
    assert np.allclose(pixels, np.rint(ramp[0] / 257.0), atol=0.5)


def test_a_16bit_keyframe_loads_at_its_real_brightness(tmp_path: Path) -> None:
    frames = [np.full((16, 24, 3), value, np.uint8) for value in (10, 200)]
    folder = tmp_path / "seq"
    save_sequence(folder, sequence_of(frames).manifest, frames, contact_sheet)
    png_16bit(folder / "001.png", np.full((16, 24, 1), GREY_16, np.uint16))
    loaded = load_sequence(folder)
    assert np.all(np.abs(loaded.frames[1].astype(int) - 117) <= 1)


def test_a_photo_path_too_long_for_the_file_system_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / ("a" * 300 + ".png")
    with pytest.raises(UserError) as raised:
        load_photo(path)
    assert (
        str(raised.value)
        == f"The photo {path} cannot be read (File name too long); give the path of a PNG, JPEG or WebP photo."
    )
