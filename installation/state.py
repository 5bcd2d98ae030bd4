"""The show's state on disk, saved every few seconds, so a restart (power cut, crash, update)
resumes on the same sequence, keyframe and parameters.

Whatever the file holds, loading it never stops the show: a missing, damaged or absurd state
(an infinite keyframe, a sequence name no folder can have) is logged and the show starts fresh.
"""

from __future__ import annotations

import json
import logging
import os
import reprlib
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from installation.config import is_finite_number
from installation.errors import UserError
from installation.files import write_atomically
from installation.keyframes.sequence import NAME_MAX, name_bytes

log = logging.getLogger(__name__)
SAVE_SECONDS = 5.0


def default_state_file() -> Path:
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "metamorph" / "state.json"


@dataclass(frozen=True)
class SavedState:
    sequence: str
    keyframe: int
    parameters: dict[str, float]


def check_state_file(path: Path) -> None:
    """Refuse a state path that is there but is not a regular file (a device, a FIFO, a folder):
    loading would block on it or saving would replace it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise UserError(
            f"The state file {path} cannot be reached ({error.strerror}); choose another --state, or --state none."
        ) from error
    if not stat.S_ISREG(mode):
        raise UserError(f"The state file {path} is not a regular file; give a file path with --state, or --state none.")


def save_state(path: Path, state: SavedState) -> None:
    """Write atomically: a power cut mid-write leaves the previous state, never half of one.

    A failed save removes its temporary file, since a save that keeps failing (an unwritable
    path, a full disk) is retried every few seconds for the whole exhibition.
    """
    try:
        if path.exists() and not path.is_file():
            raise OSError(f"{path} is not a regular file")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(asdict(state)))
    except OSError as error:
        log.warning("state: cannot save %s (%s); the show goes on", path, error)


def load_state(path: Path) -> SavedState | None:
    """The saved state, or None (missing, unreadable, damaged or absurd: the show starts fresh)."""
    try:
        if path.exists() and not path.is_file():
            raise OSError(f"{path} is not a regular file")
        return _parse(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as error:
        log.warning("state: ignoring %s (%s); starting fresh", path, error)
        return None


def _parse(data: Any) -> SavedState:
    """Check every value a restart uses; a ValueError says which one is wrong."""
    if not isinstance(data, dict):
        raise ValueError(f"not a JSON object but {reprlib.repr(data)}")
    sequence, keyframe, parameters = data.get("sequence"), data.get("keyframe"), data.get("parameters")
    if not isinstance(sequence, str) or not _is_folder_name(sequence):
        raise ValueError(f"sequence {reprlib.repr(sequence)} is not a folder name")
    if isinstance(keyframe, bool) or not isinstance(keyframe, int) or keyframe < 0:
        raise ValueError(f"keyframe {reprlib.repr(keyframe)} is not a whole number from 0")
    if not isinstance(parameters, dict) or not all(is_finite_number(value) for value in parameters.values()):
        raise ValueError(f"parameters {reprlib.repr(parameters)} are not finite numbers by name")
    return SavedState(sequence, keyframe, {str(name): float(value) for name, value in parameters.items()})


def _is_folder_name(name: Any) -> bool:
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and name.isprintable()
        and name_bytes(name) <= NAME_MAX
    )
