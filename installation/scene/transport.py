"""Where each sphere goes: back to its own cell, or to a cell of the next keyframe of its colour.

Colour transport pairs the cells of two keyframes by sorting both along colour and position:
equal-sized groups by lightness, then by hue within each, then by place on the grid within
those. Pairing ranks of two lists of the same length makes it a permutation, so every cell of
the next keyframe receives exactly one sphere, and colour flows across the picture instead of
fading in place. It runs once per pair of keyframes, in numpy.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from installation.keyframes.oklab import srgb_to_oklab

_LIGHTNESS_GROUPS = 24
_HUE_GROUPS = 6


class Transport(StrEnum):
    GRID = "grid"
    COLOR = "color"


def destinations(mode: Transport, colours_a: np.ndarray, colours_b: np.ndarray) -> np.ndarray:
    """For each cell of keyframe A (row-major), the index of the cell its sphere ends in."""
    count = colours_a.shape[0] * colours_a.shape[1]
    if Transport(mode) is Transport.GRID:
        return np.arange(count, dtype=np.int32)
    return colour_transport(colours_a, colours_b)


def colour_transport(colours_a: np.ndarray, colours_b: np.ndarray) -> np.ndarray:
    """A permutation pairing cells of similar colour, keeping their order on the grid."""
    lightness_a, hue_a = _lightness_and_hue(colours_a)
    lightness_b, hue_b = _lightness_and_hue(colours_b)
    pairing = np.empty(lightness_a.size, dtype=np.int32)
    groups_a = np.array_split(np.argsort(lightness_a, kind="stable"), _LIGHTNESS_GROUPS)
    groups_b = np.array_split(np.argsort(lightness_b, kind="stable"), _LIGHTNESS_GROUPS)
    for group_a, group_b in zip(groups_a, groups_b, strict=True):
        by_hue_a = group_a[np.argsort(hue_a[group_a], kind="stable")]
        by_hue_b = group_b[np.argsort(hue_b[group_b], kind="stable")]
        for cells_a, cells_b in zip(
            np.array_split(by_hue_a, _HUE_GROUPS), np.array_split(by_hue_b, _HUE_GROUPS), strict=True
        ):
            pairing[np.sort(cells_a)] = np.sort(cells_b)  # row-major order: place on the grid
    return pairing


def _lightness_and_hue(colours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lab = srgb_to_oklab(colours.reshape(-1, 3).astype(np.float32) / 255.0)
    return lab[:, 0], np.arctan2(lab[:, 2], lab[:, 1])
