"""The show's OSC address space as OSCQuery describes it (the Vidvox OSCQuery proposal).

Every method is generated from the parameter registry and the command table, so the tree can
never list an address the show does not hear, nor miss one it does; where a parameter and a
command share an address (``/blackout``), the parameter wins, as it does in ``osc.translate``.
The space changes only with the show: the keyframe count bounds ``/goto`` and the sequence
folder lists what ``/sequence`` takes. Values are read from the last frame state (``readings``),
never from the show itself, so the web process answers from a copy of them.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from installation.scene.commands import COMMANDS, CommandSpec
from installation.scene.parameters import PLAYER_PARAMETERS, Parameter
from installation.scene.presets import shipped_presets
from installation.scene.tempo import MAX_TEMPO, MIN_TEMPO, SYNCS
from installation.scene.wire import FrameWire

DEFAULT_HTTP_PORT = 8080
READ, WRITE = 1, 2
ATTRIBUTES = ("FULL_PATH", "CONTENTS", "TYPE", "ACCESS", "VALUE", "RANGE", "DESCRIPTION", "CLIPMODE", "UNIT")
"""The node attributes this server gives; a query for any other is a bad request (400)."""
EXTENSIONS = ("ACCESS", "VALUE", "RANGE", "DESCRIPTION", "CLIPMODE", "UNIT", "LISTEN", "PATH_ADDED", "PATH_REMOVED")
UNITS = {
    "speed": "time.speed",
    "hold": "time.second",
    "duration": "time.second",
    "duration_min": "time.second",
    "hue": "angle.degree",
    "audio_gain": "gain.linear",
}
"""Units from the proposal's list (units.txt) for the parameters that have one."""
Values = dict[str, list[Any]]
"""The value of every readable method by path, as one frame state gives them (``readings``)."""
CONTAINERS = {
    "/": "Diffusive Metamorphosis: a live show of diffusing spheres",
    "/audio": "how sound steers the show",
    "/visitors": "the visitors' wishes (play --visitors): pause, approve, clear, accept, refuse, delete",
}


@dataclass(frozen=True)
class Method:
    """One OSC method: what it takes (OSC type tags), how to reach it, and where its value comes from."""

    path: str
    type: str
    access: int
    description: str
    ranges: tuple[tuple[tuple[str, Any], ...], ...] = ()
    """One range per type tag, as (key, value) pairs (MIN, MAX or VALS): hashable, so spaces compare."""
    clipmode: str = ""
    unit: str = ""
    value: Callable[[FrameWire], list[Any]] | None = None

    def attributes(self, values: Values) -> dict[str, Any]:
        """Its JSON attributes; VALUE only when it can be read and a frame has given one."""
        node: dict[str, Any] = {"FULL_PATH": self.path, "TYPE": self.type, "ACCESS": self.access}
        node["DESCRIPTION"] = self.description
        if self.ranges:
            node["RANGE"] = [dict(pairs) for pairs in self.ranges]
        if self.clipmode:
            node["CLIPMODE"] = [self.clipmode] * len(self.type)
        if self.unit:
            node["UNIT"] = [self.unit]
        if self.access & READ and self.path in values:
            node["VALUE"] = values[self.path]
        return node


def _parameter(spec: Parameter, writes: int) -> Method:
    return Method(
        spec.address,
        "f",
        READ | writes,
        spec.help,
        ((("MIN", spec.minimum), ("MAX", spec.maximum)),),
        "both",
        UNITS.get(spec.name, ""),
        _SETTINGS[spec.name],
    )


def _setting(name: str) -> Callable[[FrameWire], list[Any]]:
    """The operator's value of ``name`` (what was set, before smoothing and sound)."""
    return lambda frame: [getattr(frame.settings, name)]


_SETTINGS = {spec.name: _setting(spec.name) for spec in PLAYER_PARAMETERS}
"""One reader per parameter, made once, so that two address spaces built apart compare equal."""


def _keyframe(frame: FrameWire) -> list[Any]:
    return [frame.conductor.index]


def _paused(frame: FrameWire) -> list[Any]:
    return [int(frame.conductor.paused)]


def _sequence(frame: FrameWire) -> list[Any]:
    return [frame.name]


def _tempo(frame: FrameWire) -> list[Any]:
    """The tempo followed (empty while the show runs free)."""
    return [round(frame.beat.tempo, 3)] if frame.beat is not None else []


def _beat_in_bar(frame: FrameWire) -> list[Any]:
    return [frame.beat.beat_in_bar] if frame.beat is not None else []


_VALUES: dict[str, Callable[[FrameWire], list[Any]]] = {
    "goto": _keyframe,
    "pause": _paused,
    "sequence": _sequence,
    "tempo": _tempo,
}
"""Commands whose effect can be read back from a frame state."""


def _choices(values: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    return (("VALS", values),)


def _command(spec: CommandSpec, keyframes: int, sequences: tuple[str, ...], writes: int) -> Method:
    """A command's method. The table's "T" (a button or toggle: 1 pressed, 0 released) is an int 0..1."""
    value = _VALUES.get(spec.name)
    access = (READ if value else 0) | writes
    types = spec.arguments.replace("T", "i")
    ranges: dict[str, tuple[tuple[tuple[str, Any], ...], ...]] = {
        "T": ((("MIN", 0), ("MAX", 1)),),
        "i": ((("MIN", 0), ("MAX", max(keyframes - 1, 0))),) if spec.name == "goto" else (),
        "s": (_choices(sequences),) if spec.name == "sequence" and sequences else (),
        "sf": (_choices(tuple(p.name for p in PLAYER_PARAMETERS)), ()),
    }
    chosen = ranges.get(spec.arguments, ())
    if spec.name == "preset":
        chosen = (_choices(tuple(shipped_presets())),)
    elif spec.name == "sync":
        chosen = (_choices(SYNCS),)
    elif spec.name == "tempo":
        chosen = ((("MIN", MIN_TEMPO), ("MAX", MAX_TEMPO)),)
    clipmode = "both" if types == "i" else ""
    return Method("/" + spec.name, types, access, spec.help, chosen, clipmode, "", value)


def address_space(keyframes: int, sequences: tuple[str, ...] = (), readonly: bool = False) -> dict[str, Method]:
    """Every method of the show by path: the parameters, then the commands not shadowed by one."""
    writes = 0 if readonly else WRITE
    methods = {spec.address: _parameter(spec, writes) for spec in PLAYER_PARAMETERS}
    for spec in COMMANDS.values():
        methods.setdefault("/" + spec.name, _command(spec, keyframes, sequences, writes))
    methods["/beat"] = BEAT
    return methods


BEAT = Method(
    "/beat",
    "i",
    READ,
    "the beat in the bar of the beat followed (0: the downbeat); none while the show runs free",
    ((("MIN", 0), ("MAX", 15)),),
    "",
    "",
    _beat_in_bar,
)
"""Read-only: what the control page's beat indicator shows."""


def _children(space: dict[str, Method], path: str) -> list[str]:
    """The direct children of ``path`` (methods or the containers on the way to one), by name."""
    prefix = path.rstrip("/") + "/"
    names = {candidate[len(prefix) :].split("/")[0] for candidate in space if candidate.startswith(prefix)}
    return sorted(name for name in names if name)


def node(space: dict[str, Method], path: str, values: Values) -> dict[str, Any] | None:
    """The JSON object of ``path`` with everything under it, or None when there is no such node."""
    children = _children(space, path)
    method = space.get(path)
    if method is None and not children:
        return None
    described = method.attributes(values) if method else {"FULL_PATH": path, "ACCESS": 0}
    described.setdefault("DESCRIPTION", CONTAINERS.get(path, ""))
    if children:
        base = path.rstrip("/")
        described["CONTENTS"] = {name: node(space, f"{base}/{name}", values) for name in children}
    return described


def attribute(space: dict[str, Method], path: str, name: str, values: Values) -> tuple[int, dict[str, Any]]:
    """An attribute query (``/speed?VALUE``): an HTTP status and the object with only that attribute.

    As the proposal says: an unknown attribute is a bad request (400), a node that is not there
    404, VALUE of a method that cannot be read 204, an attribute the node has not an empty object.
    """
    if name not in ATTRIBUTES:
        return 400, {}
    described = node(space, path, values)
    if described is None:
        return 404, {}
    if name == "VALUE" and not described.get("ACCESS", 0) & READ:
        return 204, {}
    return 200, {name: described[name]} if name in described else {}


def host_info(http_port: int, osc_port: int | None) -> dict[str, Any]:
    """``?HOST_INFO``: the name, where OSC goes (UDP), and the optional parts this server supports."""
    info: dict[str, Any] = {"NAME": f"metamorph on {socket.gethostname()}"}
    if osc_port is not None:
        info |= {"OSC_PORT": osc_port, "OSC_TRANSPORT": "UDP"}
    info["WS_PORT"] = http_port
    info["EXTENSIONS"] = dict.fromkeys(EXTENSIONS, True) | {"TAGS": False, "CRITICAL": False, "PATH_CHANGED": False}
    return info


def readable(space: dict[str, Method]) -> dict[str, Method]:
    """The methods with a value to stream (LISTEN is accepted for these)."""
    return {path: method for path, method in space.items() if method.access & READ and method.value is not None}


_READABLE = readable(address_space(1))
"""Which methods can be read does not depend on the keyframe count, the sequences or read-only mode."""


def readings(frame: FrameWire) -> Values:
    """The value of every readable method in ``frame`` (the frame's one description, from the
    show or decoded from its wire form): all a tree or a stream needs from the show."""
    found = {path: method.value(frame) for path, method in _READABLE.items() if method.value is not None}
    return {path: value for path, value in found.items() if value}  # no beat while free: no VALUE
