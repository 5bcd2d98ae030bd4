"""Beat sources for ``play --sync``: Ableton Link, MIDI clock, tap tempo and the sound's onsets,
plus the beat times of a music file for ``capture --sync audio``.

Each is a ``BeatSource`` (``installation/scene/tempo.py``) read once a frame by ``TempoPolicy``.
``open_source(name)`` makes the one a ``--sync`` name asks for; a source that cannot work here
(no Link binding) is one log line and None: the show runs free.
"""

from __future__ import annotations

import logging

from installation.scene.tempo import SYNCS, BeatSource

log = logging.getLogger(__name__)
__all__ = ["SYNCS", "open_source"]


def open_source(
    sync: str,
    *,
    bpm: float = 120.0,
    quantum: float = 4.0,
    midi_clock: str | None = None,
    start_stop: bool = False,
) -> BeatSource | None:
    """The beat source that ``sync`` names (one of ``SYNCS``); None for ``free`` and for a
    source that cannot work here (said in one line). ``midi_clock`` is the MIDI input's name (a
    part of it is enough); ``start_stop`` honours Link's start/stop sync."""
    if sync not in SYNCS:
        raise ValueError(f"unknown sync {sync!r}: use one of {', '.join(SYNCS)}")
    if sync == "free":
        return None
    if sync == "link":
        from installation.control.tempo.link import LinkSource, LinkUnavailable

        try:
            return LinkSource(bpm, quantum, start_stop)
        except LinkUnavailable as error:
            log.warning("tempo: %s", error)
            return None
    if sync == "midi":
        from installation.control.tempo.midiclock import MidiClockSource

        return MidiClockSource(midi_clock or "", quantum)
    if sync == "tap":
        from installation.control.tempo.tap import TapTempo

        return TapTempo(quantum)
    from installation.control.tempo.onsets import OnsetTempo

    return OnsetTempo(quantum)
