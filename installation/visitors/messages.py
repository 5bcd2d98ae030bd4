"""What the show and the visitors' process say over their link (besides heartbeats and log lines)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installation.scene.commands import Command
from installation.visitors.studio import Recipe


@dataclass(frozen=True)
class VisitorSettings:
    """What the visitors' process is told once, when it starts."""

    folder: Path
    recipe: Recipe
    every: float
    """Seconds between two wishes of one visitor."""
    queue: int
    approve: bool = False
    blocked: frozenset[str] = frozenset()
    photos: bool = False
    keep_photos: bool = False
    keep_last: int | None = None
    url: str = ""
    log_level: int = logging.INFO


@dataclass(frozen=True)
class Showing:
    """The keyframe on screen now: where a wish without a photo starts."""

    keyframe: Path


@dataclass(frozen=True)
class Operator:
    """A visitors command from the operator (``/visitors/...``: OSC, the control page, MIDI)."""

    command: Command


@dataclass(frozen=True)
class Ready:
    """A wish's sequence is made: the show glides into it."""

    sequence: Path
    number: int
    prompt: str


@dataclass(frozen=True)
class Queue:
    """The desk as the operator sees it: what ``/status`` and the control page show."""

    report: dict[str, Any]
