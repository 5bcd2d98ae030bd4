"""What ``play`` and ``capture`` are asked for: each option declared once, on its field.

A field declared with ``flag`` (``installation/flags.py``) is its command-line option too: the
parser adds it from the declaration and builds these dataclasses back from the parsed arguments,
so the command line, the config file and the drivers read one declaration.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from installation.control.mapping import DEFAULT_MAP
from installation.control.osc import DEFAULT_PORT, LOCAL_NETWORKS
from installation.control.oscquery import DEFAULT_HTTP_PORT
from installation.errors import UserError
from installation.flags import Address, Bounds, Size, flag, zero_is_off
from installation.gallery import GalleryOptions
from installation.render.video import DEFAULT_PRESET, check_screenshot
from installation.render.wall import WallLayout, grid_type, tile_type
from installation.scene.cells import DEFAULT_COLUMNS
from installation.scene.conductor import Order
from installation.scene.parameters import Parameters
from installation.scene.presets import DEFAULT_LOOK, Preset, load_preset
from installation.scene.stage import Stage, load_stage, prepare_stage
from installation.scene.tempo import MAX_TEMPO, MIN_TEMPO, SYNCS, BeatSource, TempoMap, TempoPolicy
from installation.scene.transport import Transport
from installation.visitors.options import VisitorOptions
from installation.wall.link import DEFAULT_PORT as WALL_PORT

Opener = Callable[[str], BeatSource | None]
"""Opens the beat source a ``--sync`` name asks for (``control/tempo``)."""

DEFAULT_IN_BETWEENS = 30
"""Frames between two keyframes in the plain morph video of the source piece."""


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


_BEAT, _WALL, _CONTROL, _OUT = "on the beat", "video wall", "control", "video out (pip install -e '.[ndi]')"
_PLAY, _CAPTURE = ("play",), ("capture",)
_ROLES = ("play", "wall-test")
"""The commands that show one machine's output: a wall's tile is either."""


def _map_or_default(path: Path | None) -> Path:
    return path or DEFAULT_MAP


def audio_source(text: str) -> str:
    """``input``, ``none``, or the path of an existing music file (``--audio`` of play)."""
    if text in ("input", "none") or Path(text).is_file():
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is neither input, none, nor a music file that exists")


def frame_range(text: str) -> tuple[int, int]:
    """``--frames A:B`` of capture."""
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", text)
    if not match or int(match[1]) >= int(match[2]):
        raise argparse.ArgumentTypeError(f"{text!r} is not a frame range; write it as A:B with A < B, e.g. 0:600")
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class TempoOptions:
    """How transitions follow a beat (``scene/tempo.py``): what ``--sync`` follows, how many beats a
    transition and a rest last, the bar's beats, how far ahead of the beat the picture is drawn."""

    sync: str = flag(
        "--sync",
        "free (default): transitions by seconds; link: the Ableton Link session (pip install -e '.[link]'), "
        "midi: MIDI clock from --midi-clock, tap: the key t or /tap, audio: the sound input's beat",
        "free",
        group=_BEAT,
        choices=SYNCS,
        per_command={
            "capture": {
                "choices": ("free", "audio"),
                "help": "free (default): transitions by seconds; audio: the beats of --audio, found offline "
                "(pip install -e '.[tempo]'); see also --bpm",
            }
        },
    )
    transition_beats: float = flag(
        "--transition-beats",
        "beats a transition lasts; it lands on a bar line (default %(default)g)",
        4.0,
        group=_BEAT,
        type=Bounds(0.25, 64.0, 4.0),
    )
    hold_beats: float = flag(
        "--hold-beats",
        "beats each keyframe rests (default %(default)g)",
        4.0,
        group=_BEAT,
        type=Bounds(0.0, 256.0, 4.0),
    )
    quantum: float = flag(
        "--quantum", "beats in a bar (default %(default)g)", 4.0, group=_BEAT, type=Bounds(1.0, 16.0, 4.0)
    )
    latency_ms: float = flag(
        "--sync-latency",
        "draw this many milliseconds ahead of the beat: a projector's or mixer's delay (default 0)",
        0.0,
        group=_BEAT,
        type=Bounds(-1000.0, 1000.0, 0.0),
        metavar="MS",
    )
    """``--sync-latency``: the projector's or mixer's delay, drawn ahead of the beat."""
    beat_kick: bool = flag(
        "--beat-kick", "a kick on every beat in place of the sound's onsets", False, group=_BEAT, action="store_true"
    )
    midi_clock: str | None = flag(
        "--midi-clock",
        "the MIDI input sending clock (part of its name)",
        group=_BEAT,
        commands=("play",),
        metavar="NAME",
    )
    """The MIDI input whose clock ``--sync midi`` follows (a part of its name)."""
    start_stop: bool = flag(
        "--link-start-stop",
        "with --sync link: no new transition while Link is stopped",
        False,
        group=_BEAT,
        commands=("play",),
        action="store_true",
    )
    """Link's start/stop sync: no new transition while the session is stopped."""
    bpm: float | None = flag(
        "--bpm",
        "where Link and tap start (default 120)",
        group=_BEAT,
        per_command={"capture": {"help": "a known tempo: transitions on its bars (with --offset), no beat tracking"}},
        type=Bounds(MIN_TEMPO, MAX_TEMPO, 120.0),
    )
    """A tempo given: a capture's steady beat, or where Link and tap start."""
    offset: float = flag(
        "--offset",
        "seconds into the capture of the first downbeat at --bpm (default 0)",
        0.0,
        group=_BEAT,
        commands=("capture",),
        type=Bounds(-3600.0, 3600.0, 0.0),
    )
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

    tiles: tuple[int, int] = flag(
        "--wall",
        "tiles of the wall, e.g. 3x1",
        (1, 1),
        group=_WALL,
        commands=_ROLES,
        type=grid_type,
        metavar="COLSxROWS",
    )
    tile: tuple[int, int] = flag(
        "--tile",
        "this machine's tile, from 0,0 at the top left",
        (0, 0),
        group=_WALL,
        commands=_ROLES,
        type=tile_type,
        metavar="C,R",
    )
    bezel: int = flag(
        "--bezel",
        "displays: the hidden strip between two screens, in pixels of a tile",
        0,
        group=_WALL,
        commands=_ROLES,
        type=Bounds(0, 4000, 40, whole=True),
        exclusive="strip",
        metavar="PX",
    )
    overlap: int = flag(
        "--overlap",
        "projectors: the strip two neighbours share, blended with soft edges",
        0,
        group=_WALL,
        commands=_ROLES,
        type=Bounds(0, 4000, 200, whole=True),
        exclusive="strip",
        metavar="PX",
    )
    lead: int | None = flag(
        "--lead",
        f"lead the wall: send every frame to the followers that ask, from UDP PORT (default {WALL_PORT}), "
        "if they are in the --osc-allow networks",
        group=_WALL,
        commands=_ROLES,
        type=Bounds(1, 65535, WALL_PORT, whole=True),
        nargs="?",
        const=WALL_PORT,
        exclusive="role",
        metavar="PORT",
    )
    """The UDP port this leader sends from and hears hellos on; None: it does not lead."""
    follow: tuple[str, int] | None = flag(
        "--leader",
        "follow the leader at HOST: draw its frames (sound, OSC, MIDI and tempo act on the leader; "
        "--follow is the look's motion parameter)",
        group=_WALL,
        commands=_ROLES,
        type=Address(WALL_PORT, f"10.0.0.2:{WALL_PORT}"),
        exclusive="role",
        metavar="HOST[:PORT]",
    )
    """The leader this machine follows; None: it does not follow."""
    timeout: float = flag(
        "--wall-timeout",
        "a follower that hears no leader this long fades to black (default %(default)g)",
        2.0,
        group=_WALL,
        commands=_ROLES,
        type=Bounds(0.1, 3600.0, 2.0),
        metavar="SECONDS",
    )
    port: int = flag(
        "--wall-port",
        "the UDP port a follower receives on (default: any free one)",
        0,
        group=_WALL,
        commands=_ROLES,
        type=Bounds(0, 65535, 9101, whole=True),
        metavar="PORT",
    )

    def __post_init__(self) -> None:
        """What the parser's exclusive groups refuse, refused again for a config file's values."""
        if self.lead is not None and self.follow is not None:
            raise UserError("A machine either leads the wall (--lead) or follows a leader (--leader), not both.")
        if self.bezel and self.overlap:
            raise UserError("A wall has bezels (displays, --bezel) or overlaps (projectors, --overlap), not both.")

    def layout(self, tile_size: tuple[int, int]) -> WallLayout:
        """This machine's tile, its output being ``tile_size`` pixels; a tile off the wall, or an
        overlap wider than half a tile, is refused in one sentence."""
        try:
            return WallLayout(self.tiles, self.tile, tile_size, self.bezel - self.overlap)
        except ValueError as error:
            raise UserError(f"{error}; check --wall, --tile and --overlap against --window.") from error


@dataclass(frozen=True)
class PlayOptions:
    """What ``metamorph play`` was asked for."""

    show: ShowOptions = field(default_factory=ShowOptions)
    gallery: GalleryOptions = field(default_factory=GalleryOptions)
    window: tuple[int, int] = flag(
        "--window",
        "window size WxH (default 1280x720); a wall's tile",
        (1280, 720),
        commands=_ROLES,
        type=Size(16, 16_384, (1280, 720)),
    )
    fullscreen: bool = flag("--fullscreen", "full screen, cursor hidden", False, commands=_ROLES, action="store_true")
    display: int = flag(
        "--display", "which display to use (default 0)", 0, commands=_ROLES, type=Bounds(0, 64, 0, whole=True)
    )
    vsync: bool = flag(
        "--no-vsync", "do not wait for the display's refresh", True, commands=_ROLES, action="store_false"
    )
    shuffle: bool = flag(
        "--shuffle",
        "play a folder of sequences in random order",
        False,
        group="gallery",
        commands=_PLAY,
        action="store_true",
    )
    osc_port: int | None = flag(
        "--osc-port",
        "UDP port for OSC (default %(default)s; 0 turns OSC off)",
        DEFAULT_PORT,
        group=_CONTROL,
        commands=_PLAY,
        convert=zero_is_off,
        type=Bounds(0, 65535, DEFAULT_PORT, whole=True),
    )
    osc_allow: tuple[str, ...] = flag(
        "--osc-allow",
        "accept OSC only from these networks, e.g. 192.168.1.0/24, or `any` (default: this machine and the "
        "private and link-local networks)",
        LOCAL_NETWORKS,
        group=_CONTROL,
        commands=_PLAY,
        convert=tuple,
        given=list(LOCAL_NETWORKS),
        nargs="+",
        metavar="CIDR",
    )
    osc_feedback: tuple[tuple[str, int], ...] = flag(
        "--osc-feedback",
        "send the show's values only here (default: every controller heard from in the last 10 minutes, on "
        "its port 9000)",
        (),
        group=_CONTROL,
        commands=_PLAY,
        convert=tuple,
        given=[],
        type=Address(),
        nargs="+",
        metavar="HOST:PORT",
    )
    """Where feedback goes; empty: every controller heard from in the last 10 minutes."""
    osc_map: Path = flag(
        "--osc-map",
        "TOML file mapping controller addresses (default: the TouchOSC layout of `metamorph touchosc`)",
        DEFAULT_MAP,
        group=_CONTROL,
        commands=_PLAY,
        convert=_map_or_default,
        given=None,
        type=Path,
    )
    http_port: int | None = flag(
        "--http-port",
        "TCP port for OSCQuery (JSON tree, websocket, zeroconf) and the control page at /control (default "
        "%(default)s; 0 turns it off); the same --osc-allow networks apply",
        DEFAULT_HTTP_PORT,
        group=_CONTROL,
        commands=_PLAY,
        convert=zero_is_off,
        type=Bounds(0, 65535, DEFAULT_HTTP_PORT, whole=True),
    )
    """OSCQuery and the control page (0: any free port); None: off."""
    control_key: str | None = flag(
        "--control-key",
        "writes from the network (the control page, OSCQuery clients) need this key; the page asks once (ps "
        "shows it: --control-key-file or METAMORPH_CONTROL_KEY do not)",
        group=_CONTROL,
        commands=_PLAY,
        metavar="KEY",
    )
    """What a websocket must bring to write (None: any allowed client writes)."""
    http_readonly: bool = flag(
        "--http-readonly",
        "the web page and OSCQuery only show the show, never steer it",
        False,
        group=_CONTROL,
        commands=_PLAY,
        action="store_true",
    )
    audio: str = flag(
        "--audio",
        "input: steer by live sound (default); none: no sound; a music file: steer by it, heard in show time "
        "(with --fixed-step, what `capture --audio FILE` renders)",
        "input",
        group=_CONTROL,
        commands=_PLAY,
        type=audio_source,
        metavar="input|none|FILE",
    )
    """``input`` (the live sound input), ``none``, or the path of a music file heard in show time."""
    audio_device: str | None = flag(
        "--audio-device",
        "sound input whose name contains NAME (see `metamorph devices`)",
        group=_CONTROL,
        commands=_PLAY,
        metavar="NAME",
    )
    midi: str | None = flag(
        "--midi",
        "MIDI controller whose input name contains NAME (see `metamorph devices`), mapped by the "
        "[[midi.controls]] of --osc-map",
        group=_CONTROL,
        commands=_PLAY,
        metavar="NAME",
    )
    """The MIDI controller whose input name contains this; None: no MIDI."""
    frames: int | None = flag(
        "--frames",
        "stop after N frames (up to 10^10: 5 years at 60 fps)",
        commands=_ROLES,
        type=Bounds(1, 10**10, 600, whole=True),
    )
    screenshot: Path | None = flag(
        "--screenshot", "save the last frame to this PNG", commands=_ROLES, convert=check_screenshot, type=Path
    )
    fixed_step: float | None = flag(
        "--fixed-step",
        "advance exactly 1/FPS s per frame, 60 when FPS is left out (frame-exact: the frames `capture --fps "
        "FPS` writes)",
        commands=_PLAY,
        type=Bounds(1.0, 240.0, 60.0),
        nargs="?",
        const=60.0,
        metavar="FPS",
    )
    """Frames per second of a fixed time step (frame-exact playback); None: real time."""
    osd: bool = flag("--osd", "start with the on-screen display shown", False, commands=_PLAY, action="store_true")
    ndi: str | None = flag(
        "--ndi",
        "send every frame as the NDI source NAME (default name: metamorph), for Resolume, OBS, vMix",
        group=_OUT,
        commands=_PLAY,
        nargs="?",
        const="metamorph",
        metavar="NAME",
    )
    """The NDI source this show is sent as (None: not sent)."""
    ndi_size: tuple[int, int] | None = flag(
        "--ndi-size",
        "the NDI picture's size, scaled on the GPU (default: the window's)",
        group=_OUT,
        commands=_PLAY,
        type=Size(16, 16_384, (1920, 1080)),
        metavar="WxH",
    )
    """The NDI picture's size, scaled on the GPU (None: the window's size when the show starts)."""
    ndi_alpha: bool = flag(
        "--ndi-alpha",
        "send BGRA with alpha (spheres over transparency) instead of UYVY",
        False,
        group=_OUT,
        commands=_PLAY,
        action="store_true",
    )
    """Send BGRA with the spheres over transparency, for keying in the mixer (else UYVY)."""
    spout: str | None = flag(
        "--spout",
        "Windows: share every frame's texture as the Spout sender NAME (default metamorph; pip install SpoutGL; "
        "not tested on Linux)",
        group=_OUT,
        commands=_PLAY,
        nargs="?",
        const="metamorph",
        metavar="NAME",
    )
    syphon: str | None = flag(
        "--syphon",
        "macOS: share every frame's texture as the Syphon server NAME (default metamorph; pip install "
        "syphon-python; not tested on Linux)",
        group=_OUT,
        commands=_PLAY,
        nargs="?",
        const="metamorph",
        metavar="NAME",
    )
    tempo: TempoOptions = field(default_factory=TempoOptions)
    wall: WallOptions = field(default_factory=WallOptions)
    visitors: VisitorOptions = field(default_factory=VisitorOptions)


@dataclass(frozen=True)
class CaptureOptions:
    """What ``metamorph capture`` was asked for."""

    out: Path = flag(
        "--out", "a .mp4/.mov/.mkv video, or a folder for PNG frames", commands=_CAPTURE, type=Path, required=True
    )
    show: ShowOptions = field(default_factory=ShowOptions)
    size: tuple[int, int] = flag(
        "--size",
        "output size WxH (default 3840x2160)",
        (3840, 2160),
        commands=_CAPTURE,
        type=Size(16, 16_384, (3840, 2160)),
    )
    fps: float = flag(
        "--fps",
        "frames per second, 1..240 (default %(default)g)",
        60.0,
        commands=_CAPTURE,
        type=Bounds(1.0, 240.0, 60.0),
    )
    seconds: float | None = flag(
        "--seconds",
        "length, up to 24 hours (default: the music's, else one pass of the sequence)",
        commands=_CAPTURE,
        type=Bounds(0.01, 86_400.0, 20.0),
    )
    frames: tuple[int, int] | None = flag(
        "--frames", "render only frames A to B-1 of the whole", commands=_CAPTURE, type=frame_range, metavar="A:B"
    )
    audio: Path | None = flag(
        "--audio",
        "music to mux in (wav, flac, mp3); it steers the show as a live input would, and sets the default length",
        commands=_CAPTURE,
        type=Path,
    )
    codec: str = flag("--codec", "video codec: h264 (default), h265, prores or av1", "h264", commands=_CAPTURE)
    quality: int = flag(
        "--quality",
        "1..100, higher is better and larger (default %(default)s)",
        80,
        commands=_CAPTURE,
        type=Bounds(1, 100, 80, whole=True),
    )
    encoder_preset: str = flag(
        "--encoder-preset",
        "h264/h265 speed preset, ultrafast..veryslow (default %(default)s; ultrafast lets encoding keep up with "
        "rendering on few cores)",
        DEFAULT_PRESET,
        commands=_CAPTURE,
    )
    """x264/x265's speed preset (``--encoder-preset``); the look's preset is ``show.preset``."""
    force: bool = flag("--force", "replace an existing output", False, commands=_CAPTURE, action="store_true")
    mode: str = flag(
        "--mode",
        "spheres (default), or morph: the plain cross-fade video of the source piece",
        "spheres",
        commands=_CAPTURE,
        choices=("spheres", "morph"),
    )
    in_betweens: int = flag(
        "--in-betweens",
        "morph mode: frames between two keyframes (default %(default)s)",
        DEFAULT_IN_BETWEENS,
        commands=_CAPTURE,
        type=Bounds(0, 1000, DEFAULT_IN_BETWEENS, whole=True),
    )
    quiet: bool = flag("--quiet", "no progress bar", False, commands=_CAPTURE, action="store_true")
    ray: str | None = None
    """Render on Ray: None, on this machine alone; "", a local Ray instance; else a cluster's address."""
    chunk_frames: int | None = flag(
        "--chunk-frames",
        "with --ray: frames per task (default: about 30 s of work each)",
        commands=_CAPTURE,
        type=Bounds(1, 10**7, 1800, whole=True),
    )
    """Frames per Ray task; None: about 30 s of work each (``installation.cluster.chunks``)."""
    tempo: TempoOptions = field(default_factory=TempoOptions)
