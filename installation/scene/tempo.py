"""Transitions on the beat: a beat source read once a frame, and the policy that lands moves on bar lines.

A ``BeatSource`` answers ``read(show_time)`` once a frame with a ``Beat`` (tempo, beat position,
peers, lock) or None. Live sources (Ableton Link, MIDI clock, tap, the sound's onsets, in
``installation/control/tempo/``) read their own time base, since show time drifts from real time
whenever the wall clock caps a stall; ``TempoMap`` is the fixed map of a capture, a function of
show time only, so ranges and chunks of a capture are frame-exact.

``TempoPolicy`` is a ``Policy`` (``scene/pacing.py``) that answers the conductor in beats: after a
rest of ``hold_beats`` it starts a move at the frame whose move of ``transition_beats`` ends on a
bar line (a multiple of ``quantum`` beats), and paces the move by the beats that pass, so it
lands on the first frame at or after that bar line whatever the tempo does meanwhile. Without a
lock it answers as the seconds policy does (and says so once).
"""

from __future__ import annotations

import bisect
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from installation.files import written
from installation.scene.conductor import ConductorState
from installation.scene.modulation import SoundFeatures
from installation.scene.pacing import Pacing, Policy, SecondsPolicy
from installation.scene.parameters import ParameterValues

log = logging.getLogger(__name__)

SYNCS = ("free", "link", "midi", "tap", "audio")
"""What ``--sync`` and ``/sync`` take: the free show, or the beat source to follow."""
MIN_TEMPO, MAX_TEMPO = 20.0, 999.0
"""Tempos outside this range (BPM), and NaN or inf, are counted and ignored everywhere."""
JUMP_BEATS = 0.25
"""A reading that moved this much further (or less far) than its tempo says is a jump of the
source's timeline (a Link session joined, a tap count restarted): the move in flight is replanned."""
_EPS = 1e-7
"""Beats: a frame this close before a bar line counts as on it (rounding of beat arithmetic)."""


def valid_tempo(bpm: object) -> bool:
    """Whether ``bpm`` is a usable tempo: a finite number in 20-999."""
    try:
        value = float(bpm)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return math.isfinite(value) and MIN_TEMPO <= value <= MAX_TEMPO


@dataclass(frozen=True)
class Beat:
    """One reading of a beat source.

    ``beat`` counts beats (bar lines at multiples of ``quantum``) at ``time``, the source's own
    clock in seconds; ``locked`` says the reading can be followed at all, ``playing`` that the
    transport runs (a stopped transport: no new moves); ``peers`` the Link peers besides us.
    """

    tempo: float
    beat: float
    quantum: float = 4.0
    peers: int = 0
    locked: bool = True
    playing: bool = True
    time: float = 0.0

    @property
    def phase(self) -> float:
        """Beats into the bar, in [0, quantum)."""
        return self.beat % self.quantum

    @property
    def bar(self) -> int:
        return math.floor(self.beat / self.quantum)

    @property
    def beat_in_bar(self) -> int:
        """Which beat of the bar (0 is the downbeat): the on-screen display's dots."""
        return min(int(self.phase), max(int(math.ceil(self.quantum)) - 1, 0))

    def describe(self) -> dict[str, object]:
        return {
            "tempo": round(self.tempo, 3),
            "beat": round(self.beat, 4),
            "bar": self.bar,
            "beat_in_bar": self.beat_in_bar,
            "phase": round(self.phase, 4),
            "quantum": self.quantum,
            "peers": self.peers,
            "locked": self.locked,
            "playing": self.playing,
        }


class BeatSource(Protocol):
    """Where the beat comes from; ``read`` is called once a frame on the render thread."""

    @property
    def name(self) -> str:
        """What it is, for the log and ``/status`` (link, midi clock, tap, ...)."""
        ...

    def read(self, show_time: float) -> Beat | None:
        """The beat now (None: nothing to follow yet)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class ListeningSource(BeatSource, Protocol):
    """A source that listens to the show's sound (the onset tracker): told each frame, before ``read``."""

    def hear(self, time: float, dt: float, sound: SoundFeatures) -> None: ...


def beat_kick(beat: Beat, decay: float = 0.35) -> float:
    """A kick on every beat: 1 on the beat, decaying with ``decay`` seconds (the onset kick's shape)."""
    since = (beat.beat % 1.0) * 60.0 / beat.tempo
    return math.exp(-since / decay)


# The fixed map of a capture ---------------------------------------------------------------------


@dataclass(frozen=True)
class TempoMap:
    """Beats as a function of show time: a steady ``bpm`` with beat 0 (a downbeat) at ``offset``
    seconds, or the beat times of a music file (``from_beats``), beat 0 at the first one.

    Deterministic and stateless: frame i of a capture sees the same beat in one run, in a range
    and in a Ray chunk. Before the first and after the last beat time the map goes on at the
    tempo of a line fitted through the beat times (``bpm``).
    """

    bpm: float = 120.0
    offset: float = 0.0
    times: tuple[float, ...] = ()
    quantum: float = 4.0
    source: str = "bpm"
    name: str = field(default="tempo map", compare=False)

    def __post_init__(self) -> None:
        if not valid_tempo(self.bpm):
            raise ValueError(f"a tempo of {self.bpm} BPM is outside 20-999")
        if not math.isfinite(self.offset):
            raise ValueError("the beat offset must be a finite number of seconds")

    @classmethod
    def from_beats(cls, times: Sequence[float], quantum: float = 4.0, source: str = "beats") -> TempoMap:
        """The map through ``times`` (seconds of beats, e.g. from a beat tracker): at least two;
        sorted, duplicates and non-finite times dropped."""
        clean = sorted({float(t) for t in times if math.isfinite(float(t))})
        if len(clean) < 2:
            raise ValueError("a tempo map needs at least two beat times")
        n = len(clean)
        mean_i, mean_t = (n - 1) / 2, sum(clean) / n
        slope = sum((i - mean_i) * (t - mean_t) for i, t in enumerate(clean)) / (n * (n * n - 1) / 12)
        bpm = min(max(60.0 / slope, MIN_TEMPO), MAX_TEMPO)
        return cls(bpm=bpm, offset=clean[0], times=tuple(clean), quantum=quantum, source=source)

    def beat_at(self, t: float) -> float:
        times = self.times
        if not times:
            return (t - self.offset) * self.bpm / 60.0
        period = 60.0 / self.bpm
        if t <= times[0]:
            return (t - times[0]) / period
        if t >= times[-1]:
            return len(times) - 1 + (t - times[-1]) / period
        i = bisect.bisect_right(times, t) - 1
        return i + (t - times[i]) / (times[i + 1] - times[i])

    def tempo_at(self, t: float) -> float:
        times = self.times
        if len(times) < 2 or t < times[0] or t >= times[-1]:
            return self.bpm
        i = bisect.bisect_right(times, t) - 1
        return min(max(60.0 / (times[i + 1] - times[i]), MIN_TEMPO), MAX_TEMPO)

    def time_of(self, beat: float) -> float:
        """The show time of ``beat`` (the inverse of ``beat_at``): where bar lines fall, for tests."""
        times = self.times
        period = 60.0 / self.bpm
        if not times:
            return self.offset + beat * period
        if beat <= 0:
            return times[0] + beat * period
        if beat >= len(times) - 1:
            return times[-1] + (beat - len(times) + 1) * period
        i = int(beat)
        return times[i] + (beat - i) * (times[i + 1] - times[i])

    def read(self, show_time: float) -> Beat:
        return Beat(self.tempo_at(show_time), self.beat_at(show_time), self.quantum, time=show_time)

    def close(self) -> None:
        pass

    def to_json(self) -> dict[str, Any]:
        """The map as JSON data: written beside a video, carried in a capture's plan; exact (floats
        unrounded), so a map read back gives the same frames."""
        data: dict[str, Any] = {"tempo": self.bpm, "offset": self.offset, "quantum": self.quantum}
        data["source"] = self.source
        if self.times:
            data["beats"] = list(self.times)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TempoMap:
        quantum = float(data.get("quantum", 4.0))
        if data.get("beats"):
            made = cls.from_beats([float(t) for t in data["beats"]], quantum, str(data.get("source", "beats")))
            return made
        return cls(float(data["tempo"]), float(data.get("offset", 0.0)), quantum=quantum, source="bpm")


def write_beats(tempo_map: TempoMap, path: Path, replace: bool = False) -> Path:
    """Write ``tempo_map`` as a small JSON file at ``path`` (see ``beats_path``), whole or not at
    all, replacing a file there only when ``replace``."""
    with written(path, replace) as working:
        working.write_text(json.dumps(tempo_map.to_json(), indent=1) + "\n", encoding="utf-8")
    return path


def beats_path(video: Path) -> Path:
    """Where the beat times of ``video`` go: ``NAME.beats.json`` beside it (inside a frames folder)."""
    return video / "beats.json" if video.suffix == "" else video.with_name(video.stem + ".beats.json")


# The policy --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BeatPacing:
    """One frame's answers in beats: whether the rest ends now, and the move's step this frame."""

    start: bool
    step: float
    dt: float
    speed: float

    def begins(self, rested: float) -> bool:
        return self.start

    def seconds(self) -> float:
        # The conductor adds dt * speed / seconds to the progress: this makes it add ``step``.
        if self.step <= 0.0:
            return math.inf
        return self.dt * max(self.speed, 1e-9) / self.step


@dataclass(frozen=True)
class _Plan:
    transition: int
    origin: int
    land: float
    """The bar line (in beats) the move lands on."""
    longest: float
    """The longest the move may take, in seconds."""


@dataclass(frozen=True)
class _Frame:
    start: bool
    step: float
    dt: float


class TempoPolicy:
    """Moves of ``transition_beats`` beats that land on bar lines, after rests of ``hold_beats``.

    ``source`` None (or a source without a lock) is the free show: the ``fallback`` (seconds)
    policy answers. ``latency`` (seconds) draws the picture that much ahead of the beat, for a
    projector's or mixer's delay. A move never lasts less than one frame, nor longer than
    ``transition_beats + hold_beats`` beats at the tempo it began with, however the tempo swings;
    speed does not stretch beats (speed 0 still freezes the show).

    Read from other threads (status): ``beat`` (the last reading followed, or None), ``locked``,
    ``rejected`` (readings or tempos ignored), ``describe()``.
    """

    def __init__(
        self,
        source: BeatSource | None = None,
        transition_beats: float = 4.0,
        hold_beats: float = 4.0,
        quantum: float = 4.0,
        latency: float = 0.0,
        fallback: Policy | None = None,
        opener: Callable[[str], BeatSource | None] | None = None,
        kick_on_beats: bool = False,
    ) -> None:
        if not (math.isfinite(transition_beats) and transition_beats > 0):
            raise ValueError("transition beats must be a positive number")
        if not (math.isfinite(hold_beats) and hold_beats >= 0):
            raise ValueError("hold beats must be zero or more")
        if not (math.isfinite(quantum) and quantum > 0):
            raise ValueError("the quantum must be a positive number of beats")
        if not math.isfinite(latency):
            raise ValueError("the sync latency must be a finite number of seconds")
        self.source = source
        self.transition_beats = float(transition_beats)
        self.hold_beats = float(hold_beats)
        self.quantum = float(quantum)
        self.latency = float(latency)
        self.fallback = fallback or SecondsPolicy()
        self.opener = opener
        """Opens the source a ``/sync`` name asks for (the driver's: sources open sockets and ports)."""
        self.kick_on_beats = kick_on_beats
        """``--beat-kick``: a kick on every beat in place of the sound's onsets."""
        self.beat: Beat | None = None
        self.locked = False
        self.rejected = 0
        self._said_free = False
        self._frame: _Frame | None = None
        self._last: float | None = None
        """The drawn beat of the last frame followed."""
        self._tempo = 120.0
        self._plan: _Plan | None = None
        self._rest_key: tuple[int, int] | None = None
        self._rest_from: float | None = None
        self._landed: float | None = None

    # Switching ----------------------------------------------------------------------------------

    def use(self, source: BeatSource | None) -> None:
        """Follow ``source`` from the next frame on (None: run free). The old one is not closed."""
        self.source = source
        self._forget()
        self._said_free = False

    def sync(self, name: str) -> bool:
        """Follow the source ``name`` (one of ``SYNCS``) from the next frame on, closing the one
        followed so far; False (counted) where there is no opener or the name is unknown."""
        if self.opener is None or name not in SYNCS:
            self.rejected += 1
            return False
        old, new = self.source, self.opener(name)
        self.use(new)
        if old is not None:
            old.close()
        return True

    def tap(self) -> bool:
        """A tap (``/tap``, the key t, the page's button), if the source is tap tempo."""
        tap = getattr(self.source, "tap", None)
        if tap is None:
            self.rejected += 1
            return False
        tap()
        return True

    def heard(self, sound: SoundFeatures) -> SoundFeatures:
        """What the show hears this frame: with ``kick_on_beats`` and a lock, the kick of the beat."""
        if not self.kick_on_beats or self.beat is None or not self.locked:
            return sound
        return replace(sound, kick=beat_kick(self.beat))

    def close(self) -> None:
        """Close the source followed (the end of the show)."""
        if self.source is not None:
            self.source.close()

    def set_tempo(self, bpm: object) -> bool:
        """Ask the source to play at ``bpm`` (``/tempo``): False, and counted, for a bad number
        or a source that cannot change tempo (MIDI clock, the sound)."""
        setter = getattr(self.source, "set_tempo", None)
        if not valid_tempo(bpm) or setter is None:
            self.rejected += 1
            return False
        return bool(setter(float(bpm)))  # type: ignore[arg-type]  # checked by valid_tempo

    def describe(self) -> dict[str, object]:
        beat = self.beat
        found: dict[str, object] = {
            "sync": "free" if self.source is None else self.source.name,
            "locked": self.locked,
            "rejected": self.rejected,
            "transition_beats": self.transition_beats,
            "hold_beats": self.hold_beats,
            "latency": self.latency,
        }
        if beat is not None:
            found.update(beat.describe())
        return found

    # Each frame -----------------------------------------------------------------------------------

    def observe(self, time: float, dt: float, conductor: ConductorState, sound: SoundFeatures) -> None:
        """Read the source once for this frame and decide what the conductor will be told."""
        self._frame = None
        source = self.source
        if source is None:
            self._free(None)
            return
        if isinstance(source, ListeningSource):
            source.hear(time, dt, sound)
        reading = source.read(time)
        if reading is not None and not (valid_tempo(reading.tempo) and math.isfinite(reading.beat)):
            self.rejected += 1
            if self._last is None:
                self._free(source)
                return
            reading = Beat(self._tempo, self._last - self.latency * self._tempo / 60.0 + dt * self._tempo / 60.0)
        if reading is None or not reading.locked:
            self._free(source)
            return
        if not self.locked:
            log.info("tempo: following %s at %.1f BPM", source.name, reading.tempo)
            self.locked, self._said_free = True, False
        self.beat = reading
        self._tempo = reading.tempo
        self._frame = self._decide(reading, dt, conductor)

    def pacing(self, values: ParameterValues, pace: float) -> Pacing:
        frame, self._frame = self._frame, None
        if frame is None:
            return self.fallback.pacing(values, pace)
        return BeatPacing(frame.start, frame.step, frame.dt, values.speed)

    # Inside ---------------------------------------------------------------------------------------

    def _free(self, source: BeatSource | None) -> None:
        if source is not None and not self._said_free:
            log.info("tempo: no beat from %s yet; the show runs free until it locks", source.name)
            self._said_free = True
        self.locked = False
        self._forget()

    def _forget(self) -> None:
        self._last = None
        self._plan = None
        self._rest_key = None
        self._rest_from = None
        self._landed = None

    def _decide(self, reading: Beat, dt: float, conductor: ConductorState) -> _Frame | None:
        tempo = reading.tempo
        beat = reading.beat + self.latency * tempo / 60.0
        expected = max(dt, 0.0) * tempo / 60.0
        last = self._last
        self._last = beat
        if last is None or abs((beat - last) - expected) > JUMP_BEATS:
            # A new lock or a jump of the timeline: count this frame as a plain one, replan the move.
            if last is not None and self._rest_from is not None:
                self._rest_from += (beat - last) - expected
            last = beat - expected
            self._plan = None
            self._landed = None
        if conductor.paused:
            self._plan = None
            return None
        if conductor.target is None:
            return self._rest(reading, beat, last, conductor)
        if not reading.playing:
            self._plan = None  # the transport stopped: the move finishes in seconds
            return None
        return self._move(tempo, beat, last, dt, conductor)

    def _rest(self, reading: Beat, beat: float, last: float, conductor: ConductorState) -> _Frame:
        key = (conductor.index, conductor.transition)
        if key != self._rest_key:
            self._rest_key = key
            plan = self._plan
            landed = plan is not None and plan.transition == conductor.transition
            self._rest_from = plan.land if landed and plan is not None else last
        self._plan = None  # a plan lives from the frame that starts its move to the move's end
        rest_from = self._rest_from if self._rest_from is not None else last
        held = beat - rest_from >= self.hold_beats - _EPS
        q, t = self.quantum, self.transition_beats
        start = -t % q
        crossed = math.floor((beat - start) / q + _EPS) > math.floor((last - start) / q + _EPS)
        begins = reading.playing and held and crossed
        if begins:
            land = self._landing(beat, t, beat)
            self._plan = _Plan(conductor.transition + 1, conductor.index, land, self._longest(reading.tempo))
        return _Frame(begins, 0.0, 0.0)

    def _move(self, tempo: float, beat: float, last: float, dt: float, conductor: ConductorState) -> _Frame:
        plan = self._plan
        if plan is None or plan.transition != conductor.transition or plan.origin != conductor.index:
            # A move the policy did not start (next, goto...) or one to replan: the bar line
            # nearest to where the rest of it would end, never this frame.
            remaining = (1.0 - conductor.progress) * self.transition_beats
            land = self._landing(beat, remaining, beat + 1e-6)
            plan = _Plan(conductor.transition, conductor.index, land, self._longest(tempo))
            self._plan = plan
        left = 1.0 - conductor.progress
        if beat >= plan.land - _EPS:
            step = left * (1.0 + 1e-9) + 1e-12  # lands on this frame, past any rounding
        else:
            span = plan.land - last
            step = left * max(beat - last, 0.0) / span if span > 0 else left
            floor = dt / plan.longest if plan.longest > 0 else 0.0
            step = min(max(step, floor), left * (1.0 + 1e-9) + 1e-12)
        return _Frame(False, step, dt)

    def _landing(self, beat: float, beats: float, after: float) -> float:
        """The bar line nearest to ``beat + beats``, later than ``after``."""
        q = self.quantum
        land = round((beat + beats) / q) * q
        while land <= after + _EPS:
            land += q
        return land

    def _longest(self, tempo: float) -> float:
        return (self.transition_beats + self.hold_beats) * 60.0 / tempo
