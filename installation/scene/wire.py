"""The wire form of a frame: a small, versioned description of a ``FrameState`` in bytes.

A frame state holds its stage (every keyframe's pixels); what travels instead is which stage
(the sequence's name, the hash of its manifest, its grid and transport) and where the show stands
on it: the conductor, every parameter value as drawn and as set, the sound heard, the show time
and the frame number. A receiver that has the same keyframes rebuilds the very state from it
(``FrameWire.state``): the blend and the spheres' destinations follow from the stage and the
conductor as they did on the sender, so a frame drawn from a decoded state is the sender's frame,
byte for byte. Numbers travel as 64-bit floats for the same reason.

It is also the one description of a frame for everything that reports one: ``/status`` answers
``FrameWire.status()``, the OSCQuery tree and the web process read their values from a
``FrameWire`` (``describe`` a state, or ``decode`` bytes), so no report can disagree with another.

Anything received is hostile until decoded: ``decode`` checks the length, the version, the
parameter set, every number (finite, in its range) and every index, and refuses with
``WireError`` rather than return a state the renderer cannot draw.
"""

from __future__ import annotations

import dataclasses
import math
import struct
import zlib
from dataclasses import dataclass
from typing import Any

from installation.scene.conductor import ConductorState
from installation.scene.modulation import SoundFeatures
from installation.scene.parameters import PLAYER_PARAMETERS, ParameterValues
from installation.scene.show import FrameState, frame_state
from installation.scene.stage import Stage
from installation.scene.tempo import MAX_TEMPO, MIN_TEMPO, Beat, valid_tempo
from installation.scene.transport import Transport

MAGIC = b"MMfs"
VERSION = 3
_NAMES = ",".join(spec.name for spec in PLAYER_PARAMETERS).encode()
PARAMETER_SET = zlib.crc32(_NAMES)
"""Which parameters, in which order, the values are: sender and receiver must agree."""
_TRANSPORTS = tuple(Transport)
_SOUND = tuple(field.name for field in dataclasses.fields(SoundFeatures) if field.name != "onset")

_HEAD = struct.Struct(f"<4sBIQd32sHHBHHiQ?d{len(_SOUND)}d?B")
"""magic, version, parameter set, frame, time, manifest hash, grid columns, rows, transport,
keyframe count, index, target (-1: none), transition, paused, progress, sound, onset, name length."""
_VALUES = struct.Struct(f"<{2 * len(PLAYER_PARAMETERS)}d")
"""The values the frame is drawn with, then the operator's settings."""
_BEAT = struct.Struct("<?dddH??")
"""The beat the frame followed: whether there is one, tempo, beat, quantum, peers, locked, playing."""
_FIXED = _HEAD.size + _VALUES.size + _BEAT.size


class WireError(ValueError):
    """A packet that is not a frame this show can draw (the reason says which part is wrong)."""


@dataclass(frozen=True)
class FrameWire:
    """A decoded frame: everything of a ``FrameState`` but its stage, which it names."""

    frame: int
    time: float
    name: str
    manifest_hash: bytes
    grid: tuple[int, int]
    transport: Transport
    count: int
    conductor: ConductorState
    sound: SoundFeatures
    values: ParameterValues
    settings: ParameterValues
    beat: Beat | None = None

    def fits(self, stage: Stage) -> bool:
        """Whether ``stage`` is the one this frame was drawn from (same keyframes, grid and transport)."""
        return (
            stage.name == self.name
            and stage.manifest_hash == self.manifest_hash
            and stage.grid == self.grid
            and stage.transport is self.transport
            and stage.count == self.count
        )

    def state(self, stage: Stage) -> FrameState:
        """The frame state on ``stage``; refused when ``stage`` is not the sender's."""
        if not self.fits(stage):
            raise WireError(
                f"the frame is of {self.name!r} with other keyframes, grid or transport than {stage.name!r}"
            )
        return frame_state(
            stage, self.conductor, self.values, self.settings, self.time, self.sound, self.frame, self.beat
        )

    def status(self, hearing: dict[str, object] | None = None) -> dict[str, Any]:
        """The frame as ``/status`` tells it (JSON): every setting, what sound makes of them, the
        input (``hearing``: what the sound source says of itself), the conductor, the sequence."""
        conductor = self.conductor
        return {
            "parameters": self.settings.as_dict(),
            "applied": self.values.as_dict(),
            "sound": {name: getattr(self.sound, name) for name in _SOUND} | (hearing or {}),
            "conductor": {
                "keyframe": conductor.index,
                "target": conductor.target,
                "progress": conductor.progress,
                "paused": conductor.paused,
                "transitions": conductor.transition,
                "keyframes": self.count,
            },
            "sequence": self.name,
            "time": self.time,
            "frame": self.frame,
        }


def describe(state: FrameState) -> FrameWire:
    """What the wire form of ``state`` holds, without the bytes."""
    stage = state.stage
    return FrameWire(
        frame=state.frame,
        time=state.time,
        name=stage.name,
        manifest_hash=stage.manifest_hash,
        grid=stage.grid,
        transport=stage.transport,
        count=stage.count,
        conductor=state.conductor,
        sound=state.sound,
        values=state.values,
        settings=state.settings,
        beat=state.beat,
    )


def encode(state: FrameState) -> bytes:
    """A frame state as bytes."""
    wire = describe(state)
    conductor = wire.conductor
    name = wire.name.encode()  # a folder name: at most 255 bytes on every file system
    head = _HEAD.pack(
        MAGIC,
        VERSION,
        PARAMETER_SET,
        wire.frame,
        wire.time,
        wire.manifest_hash,
        *wire.grid,
        _TRANSPORTS.index(wire.transport),
        wire.count,
        conductor.index,
        -1 if conductor.target is None else conductor.target,
        conductor.transition,
        conductor.paused,
        conductor.progress,
        *(getattr(wire.sound, field) for field in _SOUND),
        wire.sound.onset,
        len(name),
    )
    values = _VALUES.pack(*_numbers(wire.values), *_numbers(wire.settings))
    beat = wire.beat
    followed = (
        _BEAT.pack(True, beat.tempo, beat.beat, beat.quantum, min(beat.peers, 65535), beat.locked, beat.playing)
        if beat is not None
        else _BEAT.pack(False, 0.0, 0.0, 0.0, 0, False, False)
    )
    return head + values + followed + name


def decode(data: bytes) -> FrameWire:
    """The frame in ``data``, every field checked; ``WireError`` says why a packet is refused."""
    if len(data) < _FIXED:
        raise WireError(f"a frame takes at least {_FIXED} bytes, this packet has {len(data)}")
    head = _HEAD.unpack_from(data)
    magic, version, parameter_set, frame, time, digest, columns, rows, transport, count = head[:10]
    index, target, transition, paused, progress = head[10:15]
    sound, onset, name_length = head[15 : 15 + len(_SOUND)], head[-2], head[-1]
    if magic != MAGIC:
        raise WireError("not a frame of this show (wrong magic bytes)")
    if version != VERSION:
        raise WireError(f"frame version {version}, this show reads {VERSION}")
    if parameter_set != PARAMETER_SET:
        raise WireError("the sender has other parameters than this show (another version of metamorph)")
    if len(data) != _FIXED + name_length:
        raise WireError(f"the packet has {len(data)} bytes, its frame {_FIXED + name_length}")
    if transport >= len(_TRANSPORTS) or not columns or not rows or not count:
        raise WireError("the stage's grid, transport or keyframe count is impossible")
    numbers = _VALUES.unpack_from(data, _HEAD.size)
    half = len(PLAYER_PARAMETERS)
    return FrameWire(
        frame=frame,
        time=_finite("time", time, 0.0, math.inf),
        name=sequence_name(data[_FIXED:]),
        manifest_hash=digest,
        grid=(columns, rows),
        transport=_TRANSPORTS[transport],
        count=count,
        conductor=_conductor(count, index, target, transition, paused, progress),
        sound=SoundFeatures(**{n: _finite(n, v, 0.0, 1.0) for n, v in zip(_SOUND, sound, strict=True)}, onset=onset),
        values=_values(numbers[:half]),
        settings=_values(numbers[half:]),
        beat=_beat(*_BEAT.unpack_from(data, _HEAD.size + _VALUES.size)),
    )


def _beat(
    present: bool, tempo: float, beat: float, quantum: float, peers: int, locked: bool, playing: bool
) -> Beat | None:
    if not present:
        return None
    if not valid_tempo(tempo):
        raise WireError(f"tempo {tempo!r} is outside {MIN_TEMPO:g}..{MAX_TEMPO:g}")
    _finite("beat", beat, -1e12, 1e12)
    _finite("quantum", quantum, 1.0, 16.0)
    return Beat(tempo, beat, quantum, peers, locked, playing)


def _numbers(values: ParameterValues) -> list[float]:
    return [getattr(values, spec.name) for spec in PLAYER_PARAMETERS]


def _values(numbers: tuple[float, ...]) -> ParameterValues:
    return ParameterValues(
        **{
            spec.name: _finite(spec.name, value, spec.minimum, spec.maximum)
            for spec, value in zip(PLAYER_PARAMETERS, numbers, strict=True)
        }
    )


def _finite(name: str, value: float, low: float, high: float) -> float:
    if not math.isfinite(value) or not low <= value <= high:
        raise WireError(f"{name} {value!r} is outside {low:g}..{high:g}")
    return value


def _conductor(count: int, index: int, target: int, transition: int, paused: bool, progress: float) -> ConductorState:
    if not 0 <= index < count or not -1 <= target < count or target == index:
        raise WireError(f"keyframes {index} -> {target} are not a move within {count} keyframes")
    _finite("progress", progress, 0.0, 1.0)
    return ConductorState(index, None if target < 0 else target, progress, paused, transition)


def sequence_name(raw: bytes) -> str:
    """A sequence name received: UTF-8, printable, a plain folder name; ``WireError`` if not."""
    try:
        name = raw.decode()
    except UnicodeDecodeError as error:
        raise WireError("the sequence name is not UTF-8") from error
    if not name or not name.isprintable() or "/" in name or name in (".", ".."):
        raise WireError(f"the sequence name {name!r} is not a plain folder name")
    return name
