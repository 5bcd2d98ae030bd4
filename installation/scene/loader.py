"""Sequences loaded off the render thread: the current one keeps playing until the next is ready.

A request names a sequence (a plain name inside the library folder, or a path); one worker thread
loads it. A request made while another loads replaces it, so a burst of requests costs one load
at most after the current one. The render loop polls; it never waits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from installation.scene.playlist import sequence_named
from installation.scene.stage import Stage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadFailed:
    """A request that could not be loaded, with the one-sentence reason."""

    request: str | Path
    reason: str


class SequenceLoader:
    """Loads one requested sequence at a time on a daemon thread."""

    def __init__(self, library: Path | None, prepare: Callable[[Path], Stage]) -> None:
        self.library = library
        self._prepare = prepare
        self._wanted: str | Path | None = None
        self._loading: str | Path | None = None
        self._result: Stage | LoadFailed | None = None
        self._condition = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="sequence-loader", daemon=True)
        self._thread.start()

    def request(self, wanted: str | Path) -> None:
        """Load ``wanted`` (a name in the library, or a path); replaces a request not yet done."""
        with self._condition:
            self._wanted = wanted
            self._result = None
            self._condition.notify()

    @property
    def pending(self) -> bool:
        """A request is waiting, loading, or loaded and not yet taken."""
        with self._condition:
            return self._wanted is not None or self._loading is not None or self._result is not None

    def poll(self) -> Stage | LoadFailed | None:
        """The finished load, once; None while nothing is ready."""
        with self._condition:
            result, self._result = self._result, None
            return result

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify()

    def _work(self) -> None:
        while True:
            with self._condition:
                while self._wanted is None and not self._closed:
                    self._condition.wait()
                wanted = self._wanted
                if self._closed or wanted is None:
                    return
                self._wanted, self._loading = None, wanted
            result = self._load(wanted)
            with self._condition:
                if self._wanted is None:  # a newer request makes this result stale
                    self._result = result
                self._loading = None

    def _load(self, wanted: str | Path) -> Stage | LoadFailed:
        path = wanted if isinstance(wanted, Path) else self._resolve(wanted)
        if path is None:
            return LoadFailed(wanted, f"{_shorten(wanted)!r} is not a sequence in {self.library}")
        try:
            return self._prepare(path)
        except Exception as error:  # a bad folder must never stop the show
            return LoadFailed(wanted, str(error))

    def _resolve(self, name: str) -> Path | None:
        return None if self.library is None else sequence_named(self.library, name)


def _shorten(name: str | Path, limit: int = 60) -> str:
    text = str(name)
    return text if len(text) <= limit else text[: limit - 1] + "…"
