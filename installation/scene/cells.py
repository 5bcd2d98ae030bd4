"""The sphere grid over a keyframe: its size, and each cell's colour."""

from __future__ import annotations

import numpy as np
from PIL import Image

DEFAULT_COLUMNS = 160


def grid_for(size: tuple[int, int], columns: int = DEFAULT_COLUMNS) -> tuple[int, int]:
    """Columns and rows of square cells over a picture of ``size`` = (width, height)."""
    width, height = size
    columns = max(1, min(columns, width))
    return columns, max(1, min(height, round(columns * height / width)))


def cell_colours(frame: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Each cell's mean colour (area average), 8-bit, rows x columns x 3."""
    return np.asarray(Image.fromarray(frame).resize(grid, Image.Resampling.BOX), dtype=np.uint8)
