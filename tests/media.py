"""Real media and real file-system limits for the data-safety tests: decoded frame counts with the
bundled ffmpeg, a small disk that fills up, a folder nothing can be written to."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from installation.render.video import CODECS, VideoWriter, ffmpeg


def decoded_frames(path: Path) -> int:
    """How many video frames ffmpeg decodes from ``path``; fails the test if it cannot play it."""
    result = subprocess.run(
        [ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0", "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"{path} does not play: {result.stderr.strip().splitlines()[-1:]}"
    return int(re.findall(r"frame=\s*(\d+)", result.stderr)[-1])


def write_video(path: Path, frames: int, size: tuple[int, int] = (64, 48), noisy: bool = False) -> Path:
    """A small h264 video of ``frames`` grey (or, to take space, noise) frames, written as captures are."""
    writer = VideoWriter(path, size, 10, CODECS["h264"], 100 if noisy else 50, preset="ultrafast")
    for index in range(frames):
        writer.write(noise_frame(size, index) if noisy else bytes([index * 8 % 256]) * (size[0] * size[1] * 3))
    writer.close()
    return path


def noise_frame(size: tuple[int, int], seed: int) -> bytes:
    """An RGB frame no encoder or PNG can shrink much: fills a small disk in a few frames."""
    return np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8).tobytes()


@contextlib.contextmanager
def mounted(folder: Path, options: str) -> Iterator[Path]:
    """A tmpfs at ``folder`` (root only; skipped where mounting is not permitted)."""
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()})")
    try:
        yield folder
    finally:
        for _ in range(50):  # a writer that just exited may hold the mount for a moment
            if subprocess.run(["umount", str(folder)], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "-l", str(folder)], check=True)


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "1m") -> Iterator[Path]:
    """A real file system of ``size`` at ``folder``, so writing past it fails with ENOSPC."""
    with mounted(folder, f"size={size}") as disk:
        yield disk


@contextlib.contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """A folder nothing can be created in: a read-only mount for root (who ignores modes), else mode 555."""
    if os.geteuid() == 0:
        with mounted(folder, "ro,size=64k") as disk:
            yield disk
        return
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)


def fill(disk: Path, leave: int) -> None:
    """Take all but ``leave`` bytes of ``disk``'s free space with one file."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    (disk / "filler").write_bytes(b"\0" * max(0, free - leave))
