"""Ableton Link through LinkPython-extern (``import link``; the optional extra ``link``).

Why this binding: its API is synchronous, so the render loop captures the session state once a
frame (``captureSessionState``, ``beatAtTime``, ``numPeers``: no thread or event loop of ours);
aalink is asyncio. Link runs its own network thread inside the library.

Link's joining quirk: a peer that enables at once can impose its default tempo on a session for
a moment. So this peer enables ``ENABLE_AFTER`` seconds after it is made, and a new tempo is
followed only once it has held for ``SETTLE`` seconds (``JOIN_SETTLE`` while a peer has just
joined); until then the beat goes on at the tempo followed. Our own ``set_tempo`` is followed at
once. Every peer is equal: ``/tempo`` changes the DJ's tempo too.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from installation.scene.tempo import Beat, valid_tempo

log = logging.getLogger(__name__)

ENABLE_AFTER = 0.5
SETTLE = 0.1
"""Seconds a peer's new tempo must hold before the show follows it (well within one beat)."""
JOIN_SETTLE = 1.0
"""The same, for a tempo that appears within ``JOIN_WINDOW`` seconds of a peer joining."""
JOIN_WINDOW = 1.0
TEMPO_EPSILON = 1e-3


class LinkUnavailable(RuntimeError):
    """The Link binding is not installed (one sentence, for the log)."""


def load_link() -> Any:
    try:
        import link
    except ImportError as error:
        raise LinkUnavailable(
            "Ableton Link needs LinkPython-extern (pip install -e '.[link]'); the show runs free"
        ) from error
    return link


@dataclass(frozen=True)
class _Followed:
    tempo: float
    beat: float
    micros: int


class LinkSource:
    """This show as a peer of the Link session on the network."""

    name = "link"

    def __init__(
        self, bpm: float = 120.0, quantum: float = 4.0, start_stop: bool = False, now: Any = time.monotonic
    ) -> None:
        library = load_link()
        self.quantum = float(quantum)
        self.start_stop = start_stop
        """Honour the session's start/stop: a stopped transport starts no move."""
        self.link = library.Link(float(bpm) if valid_tempo(bpm) else 120.0)
        self._clock = self.link.clock()
        self._now = now
        self._made = now()
        self._enabled = False
        self._followed: _Followed | None = None
        self._candidate: tuple[float, float] | None = None
        self._peers = 0
        self._joined_at = -1e9
        self.rejected = 0

    def micros(self) -> int:
        """Link's clock (the host's monotonic clock, in microseconds), shared by every peer here."""
        return int(self._clock.micros())

    def read(self, show_time: float) -> Beat:
        now = self._now()
        if not self._enabled and now - self._made >= ENABLE_AFTER:
            self.link.startStopSyncEnabled = self.start_stop
            self.link.enabled = True
            self._enabled = True
        state = self.link.captureSessionState()
        micros = self.micros()
        peers = int(self.link.numPeers())
        if peers > self._peers:
            self._joined_at = now
        self._peers = peers
        tempo = float(state.tempo())
        beat = float(state.beatAtTime(micros, self.quantum))
        playing = bool(state.isPlaying()) if self.start_stop else True
        followed = self._followed
        if followed is None or abs(tempo - followed.tempo) < TEMPO_EPSILON:
            self._candidate = None
            self._followed = _Followed(tempo, beat, micros)
        elif self._settled(tempo, now):
            self._followed = _Followed(tempo, beat, micros)
        else:
            # a new tempo not yet held long enough: go on at the one followed
            beat = followed.beat + (micros - followed.micros) * 1e-6 * followed.tempo / 60.0
            tempo = followed.tempo
            self._followed = _Followed(tempo, beat, micros)
        return Beat(tempo, beat, self.quantum, peers, locked=self._enabled, playing=playing, time=micros * 1e-6)

    def _settled(self, tempo: float, now: float) -> bool:
        candidate = self._candidate
        if candidate is None or abs(candidate[0] - tempo) >= TEMPO_EPSILON:
            self._candidate = (tempo, now)
            candidate = self._candidate
        wait = JOIN_SETTLE if candidate[1] - self._joined_at < JOIN_WINDOW else SETTLE
        return now - candidate[1] >= wait

    def set_tempo(self, bpm: float) -> bool:
        """``/tempo BPM``: the session's tempo, for every peer."""
        if not valid_tempo(bpm):
            self.rejected += 1
            return False
        state = self.link.captureSessionState()
        micros = self.micros()
        state.setTempo(float(bpm), micros)
        self.link.commitSessionState(state)
        beat = float(self.link.captureSessionState().beatAtTime(micros, self.quantum))
        self._followed = _Followed(float(bpm), beat, micros)
        self._candidate = None
        return True

    def set_playing(self, playing: bool) -> None:
        """Start or stop the session's transport (with start/stop sync, every peer's)."""
        state = self.link.captureSessionState()
        state.setIsPlaying(bool(playing), self.micros())
        self.link.commitSessionState(state)

    def close(self) -> None:
        self.link.enabled = False
