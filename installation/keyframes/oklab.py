"""sRGB <-> OKLab, the perceptual colour space the stylisation and colour transport work in.

OKLab (Bjorn Ottosson, 2020) keeps hue steady when lightness or chroma change, so palettes and
blends stay the colour they are named for. Arrays are float32, last axis the three channels.
"""

from __future__ import annotations

import numpy as np

_RGB_TO_LMS = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ],
    dtype=np.float32,
)
_LMS_TO_LAB = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ],
    dtype=np.float32,
)
_LAB_TO_LMS = np.linalg.inv(_LMS_TO_LAB).astype(np.float32)
_LMS_TO_RGB = np.linalg.inv(_RGB_TO_LMS).astype(np.float32)


def _to_linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _to_srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def srgb_to_oklab(srgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] to OKLab (L in [0, 1], a and b roughly in [-0.4, 0.4])."""
    lms = _to_linear(np.asarray(srgb, dtype=np.float32)) @ _RGB_TO_LMS.T
    return (np.cbrt(lms) @ _LMS_TO_LAB.T).astype(np.float32)


def oklab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """OKLab to sRGB in [0, 1], out-of-gamut colours clipped."""
    lms = (np.asarray(lab, dtype=np.float32) @ _LAB_TO_LMS.T) ** 3
    return _to_srgb(lms @ _LMS_TO_RGB.T).astype(np.float32)
