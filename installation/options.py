"""What ``play`` and ``capture`` are asked for: each option and its default, declared once.

The command line reads its defaults from these dataclasses; the drivers read the options. A
number option's floor and ceiling are a ``Bounds`` (or a ``Size``) declared as its argparse type,
next to it, so the command line and the config file (which converts through the same type)
refuse the same values in the same words.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from installation.control.mapping import DEFAULT_MAP
from installation.control.osc import DEFAULT_PORT, LOCAL_NETWORKS
from installation.control.oscquery import DEFAULT_HTTP_PORT
from installation.errors import UserError
from installation.gallery import GalleryOptions
from installation.render.video import DEFAULT_PRESET
from installation.render.wall import WallLayout
from installation.scene.cells import DEFAULT_COLUMNS
from installation.scene.conductor import Order
from installation.scene.parameters import Parameters
from installation.scene.presets import DEFAULT_LOOK, Preset, load_preset
from installation.scene.stage import Stage, load_stage, prepare_stage
from installation.scene.tempo import BeatSource, TempoMap, TempoPolicy
from installation.scene.transport import Transport

Opener = Callable[[str], BeatSource | None]
"""Opens the beat source a ``--sync`` name asks for (``control/tempo``)."""

DEFAULT_IN_BETWEENS = 30
"""Frames between two keyframes in the plain morph video of the source piece."""


@dataclass(frozen=True)
class Bounds:
    """A number option's floor, ceiling and a sane value to suggest; an argparse type.

    Every number option has one: an unchecked value only fails later, in the show (a watchdog of
    a millisecond ends it before its first frame, over and over under a service manager).
    """

    low: float
    high: float
    sane: float
    whole: bool = False
    off: float | None = None
    """A value outside the range that turns the option off (0 for ``--watchdog``)."""

    def __call__(self, text: str) -> float:
        value = self._number(text)
        if value is not None and (value == self.off or self.low <= value <= self.high):
            return value
        kind = "a whole number" if self.whole else "a finite number"
        off = "" if self.off is None else f" (or {_plain(self.off)}: off)"
        raise argparse.ArgumentTypeError(
            f"{text!r} is not {kind} from {_plain(self.low)} to {_plain(self.high)}{off}; give e.g. {_plain(self.sane)}"
        )

    def _number(self, text: str) -> float | None:
        try:
            value = int(text) if self.whole else float(text)
        except (ValueError, OverflowError):
            return None
        return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Size:
    """A WIDTHxHEIGHT option whose sides lie in ``low..high``; an argparse type."""

    low: int
    high: int
    sane: tuple[int, int]

    def __call__(self, text: str) -> tuple[int, int]:
        match = re.fullmatch(r"\s*(\d{1,9})\s*[xX]\s*(\d{1,9})\s*", text)
        if match and all(self.low <= int(side) <= self.high for side in match.groups()):
            return int(match[1]), int(match[2])
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size with sides from {self.low} to {self.high}; write it as WIDTHxHEIGHT, e.g. "
            f"{self.sane[0]}x{self.sane[1]}"
        )


@dataclass(frozen=True)
class Address:
    """A HOST:PORT option (HOST alone when ``default_port`` is given); an argparse type."""

    default_port: int | None = None
    example: str = "192.168.1.20:9000"

    def __call__(self, text: str) -> tuple[str, int]:
        host, colon, port = text.rpartition(":")
        if not colon and self.default_port is not None:
            host, port = text, str(self.default_port)
        if host and len(host) <= 253 and host.isprintable() and port.isdigit() and 0 < int(port) < 65536:
            return host, int(port)
        form = (
            "HOST:PORT" if self.default_port is None else f"HOST or HOST:PORT (port {self.default_port} when left out)"
        )
        raise argparse.ArgumentTypeError(f"{text!r} is not {form}; write it as e.g. {self.example}")


def _plain(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class ShowOptions:
    """The look and motion options that ``play`` and ``capture`` share."""

    sequence: Path | None = None
    columns: int = DEFAULT_COLUMNS
    transport: Transport = Transport.COLOR
    order: Order = Order.LOOP
    parameters: dict[str, float] = field(default_factory=dict)
    preset: Preset = field(default_factory=lambda: load_preset(DEFAULT_LOOK))
    """The look the show starts with; ``parameters`` win over it."""

    def prepare(self, folder: Path) -> Stage:
        return load_stage(folder, self.columns, self.transport)

    def first_stage(self) -> Stage:
        """The sequence asked for, else the built-in demo (built on first use)."""
        if self.sequence is not None:
            return self.prepare(self.sequence)
        from installation.keyframes.demo import demo_sequence

        return prepare_stage(demo_sequence(), self.columns, self.transport)

    def parameters_set(self) -> Parameters:
        """A fresh registry with the preset's values and this run's explicit parameter values."""
        parameters = Parameters()
        for name, value in {**self.preset.values, **self.parameters}.items():
            parameters.set(name, value, immediate=True)
        return parameters


@dataclass(frozen=True)
class TempoOptions:
    """How transitions follow a beat (``scene/tempo.py``): what ``--sync`` follows, how many beats a
    transition and a rest last, the bar's beats, how far ahead of the beat the picture is drawn."""

    sync: str = "free"
    transition_beats: float = 4.0
    hold_beats: float = 4.0
    quantum: float = 4.0
    latency_ms: float = 0.0
    """``--sync-latency``: the projector's or mixer's delay, drawn ahead of the beat."""
    beat_kick: bool = False
    midi_clock: str | None = None
    """The MIDI input whose clock ``--sync midi`` follows (a part of its name)."""
    start_stop: bool = False
    """``--link-start-stop``: Link's start/stop sync: no new transition while the session is stopped."""
    bpm: float | None = None
    """A tempo given: a capture's steady beat, or where Link and tap start."""
    offset: float = 0.0
    """Seconds into the show of a capture's first downbeat at ``bpm``."""
    beats: TempoMap | None = None
    """A capture's beats, found in its music (``--sync audio``) or made from ``bpm`` and ``offset``."""

    def policy(self, source: BeatSource | None = None, opener: Opener | None = None) -> TempoPolicy:
        """The show's policy: following ``source`` (a capture: its beats), switched by ``/sync``
        through ``opener``."""
        return TempoPolicy(
            source if source is not None else self.beats,
            self.transition_beats,
            self.hold_beats,
            self.quantum,
            self.latency_ms / 1000.0,
            opener=opener,
            kick_on_beats=self.beat_kick,
        )


@dataclass(frozen=True)
class WallOptions:
    """Which tile of a video wall this machine shows (``render/wall.py``) and its part in the
    wall's link (``wall/``): it leads, follows, or plays by itself exactly as a leader would."""

    grid: tuple[int, int] = (1, 1)
    tile: tuple[int, int] = (0, 0)
    bezel: int = 0
    overlap: int = 0
    lead: int | None = None
    """The UDP port this leader sends from and hears hellos on; None: it does not lead."""
    follow: tuple[str, int] | None = None
    """The leader this machine follows; None: it does not follow."""
    timeout: float = 2.0
    """Seconds without the leader after which a follower fades to black."""
    port: int = 0
    """The UDP port a follower receives on (0: any free one)."""

    def layout(self, tile_size: tuple[int, int]) -> WallLayout:
        """This machine's tile, its output being ``tile_size`` pixels; a tile off the wall, or an
        overlap wider than half a tile, is refused in one sentence."""
        try:
            return WallLayout(self.grid, self.tile, tile_size, self.bezel - self.overlap)
        except ValueError as error:
            raise UserError(f"{error}; check --wall, --tile and --overlap against --window.") from error


@dataclass(frozen=True)
class PlayOptions:
    """What ``metamorph play`` was asked for."""

    show: ShowOptions = field(default_factory=ShowOptions)
    gallery: GalleryOptions = field(default_factory=GalleryOptions)
    window: tuple[int, int] = (1280, 720)
    fullscreen: bool = False
    display: int = 0
    vsync: bool = True
    shuffle: bool = False
    osc_port: int | None = DEFAULT_PORT
    osc_allow: tuple[str, ...] = LOCAL_NETWORKS
    osc_feedback: tuple[tuple[str, int], ...] = ()
    """Where feedback goes; empty: every controller heard from in the last 10 minutes."""
    osc_map: Path = DEFAULT_MAP
    http_port: int | None = DEFAULT_HTTP_PORT
    """OSCQuery and the control page (0: any free port); None: off."""
    control_key: str | None = None
    """What a websocket must bring to write (None: any allowed client writes)."""
    http_readonly: bool = False
    audio: str = "input"
    """``input`` (the live sound input), ``none``, or the path of a music file heard in show time."""
    audio_device: str | None = None
    midi: str | None = None
    """The MIDI controller whose input name contains this; None: no MIDI."""
    frames: int | None = None
    screenshot: Path | None = None
    fixed_step: float | None = None
    """Frames per second of a fixed time step (frame-exact playback); None: real time."""
    osd: bool = False
    ndi: str | None = None
    """The NDI source this show is sent as (None: not sent)."""
    ndi_size: tuple[int, int] | None = None
    """The NDI picture's size, scaled on the GPU (None: the window's size when the show starts)."""
    ndi_alpha: bool = False
    """Send BGRA with the spheres over transparency, for keying in the mixer (else UYVY)."""
    tempo: TempoOptions = field(default_factory=TempoOptions)
    wall: WallOptions = field(default_factory=WallOptions)


@dataclass(frozen=True)
class CaptureOptions:
    """What ``metamorph capture`` was asked for."""

    out: Path
    show: ShowOptions = field(default_factory=ShowOptions)
    size: tuple[int, int] = (3840, 2160)
    fps: float = 60.0
    seconds: float | None = None
    frames: tuple[int, int] | None = None
    audio: Path | None = None
    codec: str = "h264"
    quality: int = 80
    encoder_preset: str = DEFAULT_PRESET
    """x264/x265's speed preset (``--encoder-preset``); the look's preset is ``show.preset``."""
    force: bool = False
    mode: str = "spheres"
    in_betweens: int = DEFAULT_IN_BETWEENS
    quiet: bool = False
    ray: str | None = None
    """Render on Ray: None, on this machine alone; "", a local Ray instance; else a cluster's address."""
    chunk_frames: int | None = None
    """Frames per Ray task; None: about 30 s of work each (``installation.cluster.chunks``)."""
    tempo: TempoOptions = field(default_factory=TempoOptions)
