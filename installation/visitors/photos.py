"""A visitor's photo, decoded as if it were hostile: size first, pixels only when they fit.

The upload's bytes are capped before this is called (MAX_BYTES); here the header's size is
checked before a pixel is decoded (a 20000x20000 PNG of a few kilobytes asks for 1.6 GB), the
picture is turned upright by its EXIF orientation (phones store it sideways) and saved as a plain
PNG, which carries no metadata: the camera, the time and the place the phone wrote stay behind.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from installation.files import write_atomically
from installation.visitors.desk import Refused

MAX_BYTES = 12 * 1024 * 1024
"""The largest upload: a phone's full-resolution JPEG fits."""
MAX_PIXELS = 33_000_000
"""The most pixels decoded: an 8K phone photo (7680x4320) and then some."""
MAX_MEGAPIXELS = MAX_PIXELS // 1_000_000
LONG_SIDE = 1024
"""The long side a photo is shrunk to: more than any keyframe backend here uses."""
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
"""What phones send (a browser turns an iPhone's HEIC into JPEG when it uploads it)."""


def save_photo(data: bytes, path: Path) -> tuple[int, int]:
    """Decode ``data`` safely, upright, at most LONG_SIDE long, and save it as a PNG at ``path``;
    its size. Anything that is not a photo we can take is ``Refused`` in one sentence."""
    if len(data) > MAX_BYTES:
        raise Refused(f"The photo is {len(data) / 2**20:.0f} MB; send one under {MAX_BYTES // 2**20} MB.", "photo")
    image = _open(data)
    image.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    out = io.BytesIO()
    clean.save(out, "PNG")
    write_atomically(path, out.getvalue())
    return clean.size


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise Refused(
                    f"The photo is {width}x{height} pixels; send one of at most {MAX_MEGAPIXELS} megapixels.", "photo"
                )
            image.load()
            return ImageOps.exif_transpose(image).convert("RGB")
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused(
            f"The photo has far too many pixels; send one of at most {MAX_MEGAPIXELS} megapixels.", "photo"
        ) from None
    except UnidentifiedImageError:
        raise Refused("That file is not a photo we can read; send a JPEG, PNG or WebP picture.", "photo") from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError):
        raise Refused("The photo is damaged or cut short; take or choose it again.", "photo") from None
