"""A folder of keyframe sequences played in turn, and safe lookup of one of them by name."""

from __future__ import annotations

import random
from pathlib import Path

from installation.errors import UserError
from installation.keyframes.sequence import MANIFEST


def is_playlist(folder: Path) -> bool:
    """A folder without a manifest of its own whose subfolders hold sequences."""
    try:
        return folder.is_dir() and not (folder / MANIFEST).exists() and bool(sequences_in(folder))
    except OSError:
        return False


def sequences_in(folder: Path) -> list[Path]:
    """The sequence folders inside ``folder``, by name; raises OSError when it cannot be read."""
    return sorted(path for path in folder.iterdir() if path.is_dir() and (path / MANIFEST).is_file())


def sequence_named(folder: Path, name: str) -> Path | None:
    """The sequence ``name`` inside ``folder``: a plain name only, never a way out of the folder."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name or name.startswith("."):
        return None
    path = folder / name
    try:
        inside = folder.resolve() in path.resolve().parents
        return path if inside and (path / MANIFEST).is_file() else None
    except (OSError, ValueError):  # a name too long for the file system, or one it cannot encode
        return None


class Playlist:
    """The sequences of a folder, in name order or shuffled, one after another.

    The folder is read again at every turn, so sequences added while the show runs join it and
    removed ones leave it; a folder that cannot be read keeps the last list.
    """

    def __init__(self, folder: Path, shuffle: bool = False, seed: int | None = None) -> None:
        self.folder = folder
        self._random = random.Random(seed) if shuffle else None
        try:
            self.items = self._listing()
        except OSError as error:
            raise UserError(
                f"The playlist folder {folder} cannot be read ({error.strerror}); give a readable folder."
            ) from error
        if not self.items:
            raise UserError(f"{folder} holds no keyframe sequences; give a sequence folder or a folder of them.")

    def after(self, path: Path) -> Path:
        """The item after ``path`` (the first when ``path`` has left the folder)."""
        if path not in self.items:
            return self.items[0]
        return self.items[(self.items.index(path) + 1) % len(self.items)]

    def rescan(self) -> None:
        """Read the folder again; raises OSError when it cannot be read (the list is kept)."""
        listing = self._listing()
        if listing:
            known = [path for path in self.items if path in listing]
            self.items = known + [path for path in listing if path not in known]

    def _listing(self) -> list[Path]:
        items = sequences_in(self.folder)
        if self._random is not None:
            self._random.shuffle(items)
        return items
