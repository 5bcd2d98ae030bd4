"""20,000 frames of the live loop with OSC traffic, sequence switches and a fake sound card."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.soak import second_half_growth, soak

pytestmark = pytest.mark.slow
SECOND_HALF_MB = 16.0
"""A leak of a single kilobyte a frame grows 10 MB over the second half; the offscreen flip leak
was 2.5 MB a frame."""


def test_twenty_thousand_frames_leak_nothing(sequence_folder: Path, tmp_path: Path) -> None:
    library = tmp_path / "library"
    shutil.copytree(sequence_folder, library / "alps")
    shutil.copytree(sequence_folder, library / "valley")
    samples = soak(library, frames=20_000)
    assert samples[-1].frame == 20_000
    assert second_half_growth(samples) <= SECOND_HALF_MB, [round(s.megabytes, 1) for s in samples]
    middle = samples[len(samples) // 2]
    assert samples[-1].threads <= middle.threads and samples[-1].open_files <= middle.open_files
