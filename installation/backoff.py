"""One back-off for every loop that tries again: the web process, the sound device, the MIDI
controller and the zeroconf advertisement.

A thing that keeps failing is tried again after a pause that doubles, up to a ceiling, so a
missing device or a dead network costs a look now and then, not a busy loop or a flooded log;
once it works the pause starts over, so the next loss is noticed as quickly as the first.
"""

from __future__ import annotations


class Backoff:
    """Pauses of ``first`` seconds, doubling with each failure up to ``limit``."""

    def __init__(self, first: float, limit: float) -> None:
        self.first = first
        self.limit = max(limit, first)
        self._next = first

    def failed(self) -> float:
        """The pause before the next try, after a failure; the one after it is twice as long."""
        pause, self._next = self._next, min(self._next * 2, self.limit)
        return pause

    def succeeded(self) -> None:
        """It worked: the next failure waits ``first`` again."""
        self._next = self.first
