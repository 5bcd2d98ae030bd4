"""20,000 frames of the live loop with OSC traffic, sequence switches and a fake sound card."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.soak import growth, soak


def test_twenty_thousand_frames_leak_nothing(sequence_folder: Path, tmp_path: Path) -> None:
    library = tmp_path / "library"
    shutil.copytree(sequence_folder, library / "alps")
    shutil.copytree(sequence_folder, library / "valley")
    samples = soak(library, frames=20_000)
    warm = samples[1]  # the first switches are done and the caches have filled
    last = samples[-1]
    assert last.frame == 20_000
    creep, one_step = growth(samples[1:])
    assert creep <= 10.0 and one_step <= 48.0, [round(s.megabytes, 1) for s in samples]
    assert last.threads <= warm.threads and last.open_files <= warm.open_files
