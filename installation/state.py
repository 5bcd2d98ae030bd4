"""The show's state on disk, saved every few seconds, so a restart (power cut, crash, update)
resumes on the same sequence, keyframe and parameters."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

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


def save_state(path: Path, state: SavedState) -> None:
    """Write atomically: a power cut mid-write leaves the previous state, never half of one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".state-")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(asdict(state), stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as error:
        log.warning("state: cannot save %s (%s); the show goes on", path, error)


def load_state(path: Path) -> SavedState | None:
    """The saved state, or None (missing, unreadable or damaged: the show starts fresh)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        parameters = {str(k): float(v) for k, v in data["parameters"].items()}
        return SavedState(str(data["sequence"]), int(data["keyframe"]), parameters)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("state: ignoring %s (%s); starting fresh", path, error)
        return None
