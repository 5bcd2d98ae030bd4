"""A folder of keyframe sequences played in turn, and safe lookup of one of them by name."""

from __future__ import annotations

import random
from pathlib import Path

from installation.errors import UserError
from installation.keyframes.sequence import MANIFEST


def is_playlist(folder: Path) -> bool:
    """A folder without a manifest of its own whose subfolders hold sequences."""
    return folder.is_dir() and not (folder / MANIFEST).exists() and any(sequences_in(folder))


def sequences_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_dir() and (path / MANIFEST).is_file())


def sequence_named(folder: Path, name: str) -> Path | None:
    """The sequence ``name`` inside ``folder``: a plain name only, never a way out of the folder."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name or name.startswith("."):
        return None
    path = folder / name
    try:
        inside = folder.resolve() in path.resolve().parents
    except OSError:
        return None
    return path if inside and (path / MANIFEST).is_file() else None


class Playlist:
    """The sequences of a folder, in name order or shuffled, one after another."""

    def __init__(self, folder: Path, shuffle: bool = False, seed: int | None = None) -> None:
        self.folder = folder
        self.items = sequences_in(folder)
        if not self.items:
            raise UserError(f"{folder} holds no keyframe sequences; give a sequence folder or a folder of them.")
        if shuffle:
            random.Random(seed).shuffle(self.items)
        self.position = 0

    @property
    def current(self) -> Path:
        return self.items[self.position]

    def advance(self) -> Path:
        self.position = (self.position + 1) % len(self.items)
        return self.current

    def select(self, path: Path) -> None:
        if path in self.items:
            self.position = self.items.index(path)
