"""Reading and writing the images this project touches, with safe limits and plain errors.

Every image read goes through ``read_rgb`` so that a missing, truncated, non-image or
dangerously large file ends as one sentence, whoever asked for it, and so that every image
arrives the way a viewer shows it: upright (EXIF orientation applied) and in 8-bit RGB, 16-bit
files scaled rather than clipped.
"""

from __future__ import annotations

import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from installation.errors import UserError

MAX_PIXELS = 7680 * 4320
"""The largest image decoded (8K UHD, 33 MP): more is refused before any pixel is read."""
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
"""Pillow's modes for 16-bit grey (older Pillow opened 16-bit PNGs as 32-bit ``I``); 16-bit
colour PNGs arrive already reduced to 8-bit ``RGB`` or ``RGBA``."""


def read_rgb(path: Path, what: str, fix: str, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open ``path`` as an upright 8-bit RGB image, or raise one sentence naming ``what`` and ``fix``."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError) as error:
        raise UserError(f"The {what} {path} does not exist; {fix}.") from error
    except OSError as error:  # a name too long, no permission, an I/O error
        raise UserError(f"The {what} {path} cannot be read ({error.strerror or error}); {fix}.") from error
    if not stat.S_ISREG(mode):
        raise UserError(f"The {what} {path} is not a file; {fix}.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise UserError(
                        f"The {what} {path} is {width}x{height} ({width * height / 1e6:.0f} MP), above the "
                        f"{max_pixels / 1e6:.0f} MP that is decoded safely; downscale it first."
                    )
                image.load()
                ImageOps.exif_transpose(image, in_place=True)  # no copy of an upright image
                return _to_rgb8(image)
    except UserError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UserError(
            f"The {what} {path} is above the {max_pixels / 1e6:.0f} MP that is decoded safely; downscale it first."
        ) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise UserError(f"The {what} {path} is not a readable image ({_reason(error)}); {fix}.") from error


def _to_rgb8(image: Image.Image) -> Image.Image:
    """8-bit RGB; 16-bit grey is scaled (65535 to 255), since Pillow's own conversion clips it to white."""
    if image.mode in SIXTEEN_BIT_MODES:
        grey = np.asarray(image, dtype=np.float64) / 257.0
        image = Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8))
    return image if image.mode == "RGB" else image.convert("RGB")


def _reason(error: Exception) -> str:
    text = str(error).strip().rstrip(".")
    return text.split("\n")[0] or type(error).__name__


def to_float(image: Image.Image) -> np.ndarray:
    """An RGB image as float32 in [0, 1], height x width x 3."""
    return np.asarray(image, dtype=np.float32) / 255.0


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Float pixels in [0, 1] as 8-bit, rounded (not truncated) so a round trip is stable."""
    return np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8)


def resize(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize float pixels (H x W x C) to ``size`` = (width, height), channel by channel.

    Pillow's float mode keeps full precision; shrinking uses an area filter, growing bilinear.
    """
    height, width = pixels.shape[:2]
    if (width, height) == size:
        return pixels
    shrinking = size[0] < width or size[1] < height
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    channels = [
        np.asarray(Image.fromarray(np.ascontiguousarray(pixels[..., c])).resize(size, method))
        for c in range(pixels.shape[2])
    ]
    return np.stack(channels, axis=-1)


def fit(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale and centre-crop float ``pixels`` to exactly ``size``, keeping the picture's aspect."""
    if pixels.shape[1::-1] == size:
        return pixels
    image = Image.fromarray(to_uint8(pixels))
    return to_float(ImageOps.fit(image, size, Image.Resampling.LANCZOS))
