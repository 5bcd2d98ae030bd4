"""The ``[[midi.controls]]`` tables of the control map: MIDI CCs and notes to parameters and commands.

They live in the same TOML file as the OSC controls, so one file describes a show's surfaces.
Each table binds one control: ``cc = N`` (``lsb = N + 32`` makes it a 14-bit pair) or
``note = N``, optionally on one ``channel`` (1..16; any channel when left out), to a
``parameter`` (with an optional ``range``) or an ``action`` of the command table. ``led = [ON,
OFF]`` gives the velocities that light a button's LED for a toggle's state; ``feedback = true``
sends a parameter's value back on its CC (motor faders, LED rings). A mistake is one sentence
naming the file and the line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from installation.config import is_finite_number
from installation.errors import UserError
from installation.scene.commands import ACTIONS
from installation.scene.parameters import PLAYER_PARAMETERS

HEADER = "[[midi.controls]]"
_SPECS = {spec.name: spec for spec in PLAYER_PARAMETERS}
_KEYS = {"cc", "note", "lsb", "channel", "parameter", "range", "action", "led", "feedback"}


@dataclass(frozen=True)
class MidiBinding:
    """One MIDI control: what it is (CC or note, number, channel) and what it drives."""

    kind: str
    """``cc`` or ``note``."""
    number: int
    channel: int | None = None
    """0..15, or None for any channel."""
    lsb: int | None = None
    """The CC that carries the low 7 bits of a 14-bit value."""
    parameter: tuple[str, float, float] | None = None
    action: str | None = None
    led: tuple[int, int] | None = None
    feedback: bool = False

    @property
    def key(self) -> tuple[str, int, int | None]:
        """What identifies the physical control: two bindings with one key would fight."""
        return (self.kind, self.number, self.channel)

    def scale(self, position: float) -> tuple[str, float] | None:
        """A 0..1 position as the bound parameter's value, or None for an action."""
        if self.parameter is None:
            return None
        name, low, high = self.parameter
        return name, low + (high - low) * position

    def unscale(self, value: float) -> float:
        """The bound parameter's value as a 0..1 position (for feedback)."""
        assert self.parameter is not None
        _, low, high = self.parameter
        return 0.0 if high == low else min(max((value - low) / (high - low), 0.0), 1.0)

    def as_toml(self) -> str:
        """This binding as a ``[[midi.controls]]`` table, for a saved (learned) map."""
        rows = [HEADER, f"{self.kind} = {self.number}"]
        if self.lsb is not None:
            rows.append(f"lsb = {self.lsb}")
        if self.channel is not None:
            rows.append(f"channel = {self.channel + 1}")
        if self.parameter is not None:
            name, low, high = self.parameter
            rows += [f'parameter = "{name}"', f"range = [{low!r}, {high!r}]"]
        else:
            rows.append(f'action = "{self.action}"')
        if self.led is not None:
            rows.append(f"led = [{self.led[0]}, {self.led[1]}]")
        if self.feedback:
            rows.append("feedback = true")
        return "\n".join(rows) + "\n"


def read_midi(path: Path, text: str, data: dict[str, Any]) -> tuple[MidiBinding, ...]:
    """The map's MIDI bindings; an unknown parameter, a number above 127 or a duplicate is refused."""
    section = data.get("midi", {})
    entries = section.get("controls", []) if isinstance(section, dict) else None
    if not isinstance(entries, list):
        raise UserError(f"The control map {path}: [midi] must hold [[midi.controls]] tables; see the default map.")
    lines = _header_lines(text)
    bindings: list[MidiBinding] = []
    taken = Taken()
    for index, entry in enumerate(entries):
        line = lines[index] if index < len(lines) else 0
        binding = _binding(path, line, entry)
        if taken.clashes(binding):
            raise _fail(
                path, line, f"binds {binding.kind} {binding.number} a second time; keep one binding per control"
            )
        taken.add(binding)
        bindings.append(binding)
    return tuple(bindings)


class Taken:
    """The controls a map has bound so far, for the duplicate check: each (kind, number)'s
    channels (None: every channel). Looking a binding up here costs the same whatever the map's
    size, where comparing it with every earlier binding made a large map's load quadratic."""

    def __init__(self) -> None:
        self._channels: dict[tuple[str, int], set[int | None]] = {}

    def clashes(self, binding: MidiBinding) -> bool:
        """Whether ``binding`` overlaps one already taken (as ``_overlaps`` would say)."""
        for number in _numbers(binding):
            held = self._channels.get((binding.kind, number))
            if held and (binding.channel is None or None in held or binding.channel in held):
                return True
        return False

    def add(self, binding: MidiBinding) -> None:
        for number in _numbers(binding):
            self._channels.setdefault((binding.kind, number), set()).add(binding.channel)


def _numbers(binding: MidiBinding) -> tuple[int, ...]:
    """The CC or note numbers a binding uses: its own, and a 14-bit pair's low byte."""
    return (binding.number,) if binding.lsb is None else (binding.number, binding.lsb)


def _overlaps(one: MidiBinding, other: MidiBinding) -> bool:
    """Same control on "any channel" and on one channel, or a CC that is another's low byte."""
    same_channel = one.channel is None or other.channel is None or one.channel == other.channel
    if not same_channel or one.kind != other.kind:
        return False
    return bool(set(_numbers(one)) & set(_numbers(other)))


def _header_lines(text: str) -> list[int]:
    return [number for number, row in enumerate(text.splitlines(), 1) if row.strip() == HEADER]


def _fail(path: Path, line: int, problem: str) -> UserError:
    return UserError(f"The control map {path}, line {line}: the MIDI control {problem}.")


def _binding(path: Path, line: int, entry: object) -> MidiBinding:
    if not isinstance(entry, dict):
        raise _fail(path, line, "must be a table")
    unknown = set(entry) - _KEYS
    if unknown:
        raise _fail(path, line, f"has an unknown key {sorted(unknown)[0]!r}; use {', '.join(sorted(_KEYS))}")
    kinds = [kind for kind in ("cc", "note") if kind in entry]
    if len(kinds) != 1:
        raise _fail(path, line, "needs exactly one of cc = N or note = N")
    kind = kinds[0]
    number = _seven_bit(path, line, kind, entry[kind])
    lsb = _seven_bit(path, line, "lsb", entry["lsb"]) if "lsb" in entry else None
    if lsb is not None and (kind != "cc" or lsb == number):
        raise _fail(path, line, "has an lsb, which only a cc takes (a different CC, usually cc + 32)")
    channel = _channel(path, line, entry.get("channel"))
    binding = MidiBinding(kind, number, channel, lsb, led=_led(path, line, entry.get("led")))
    if entry.get("feedback", False) not in (True, False):
        raise _fail(path, line, "has a feedback that is not true or false")
    return replace(_target(path, line, entry, binding), feedback=bool(entry.get("feedback", False)))


def _seven_bit(path: Path, line: int, key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 127:
        raise _fail(path, line, f"has {key} = {value!r}, not a MIDI number 0..127")
    return value


def _channel(path: Path, line: int, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 16:
        raise _fail(path, line, f"has channel = {value!r}, not a MIDI channel 1..16")
    return value - 1


def _led(path: Path, line: int, value: object) -> tuple[int, int] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2):
        raise _fail(path, line, "has a led that is not two velocities, such as led = [1, 0]")
    return _seven_bit(path, line, "led", value[0]), _seven_bit(path, line, "led", value[1])


def _target(path: Path, line: int, entry: dict[str, Any], binding: MidiBinding) -> MidiBinding:
    if "action" in entry:
        if entry["action"] not in ACTIONS:
            raise _fail(path, line, f"has an unknown action {entry['action']!r}; use one of {', '.join(ACTIONS)}")
        return replace(binding, action=entry["action"])
    name = entry.get("parameter")
    if name not in _SPECS:
        raise _fail(path, line, f"names an unknown parameter {name!r}; use one of {', '.join(_SPECS)}")
    spec = _SPECS[name]
    bounds = entry.get("range", [spec.minimum, spec.maximum])
    if not (isinstance(bounds, list) and len(bounds) == 2 and all(is_finite_number(b) for b in bounds)):
        raise _fail(path, line, "has a range that is not two numbers, such as range = [0.0, 4.0]")
    return replace(binding, parameter=(name, float(bounds[0]), float(bounds[1])))


def learned(bindings: tuple[MidiBinding, ...], new: MidiBinding) -> tuple[MidiBinding, ...]:
    """The bindings with ``new`` in place of whatever used its control before."""
    return tuple(b for b in bindings if not _overlaps(b, new)) + (new,)


def save_midi(text: str, bindings: tuple[MidiBinding, ...]) -> str:
    """The map's text with its MIDI tables replaced by ``bindings``: they are the file's last
    section (the default map says so), so everything from the first ``[[midi.controls]]`` on is
    written anew and the OSC part keeps its comments."""
    lines = text.splitlines(keepends=True)
    first = _header_lines(text)
    head = "".join(lines[: first[0] - 1]) if first else text.rstrip("\n") + "\n\n"
    return head + "\n".join(binding.as_toml() for binding in bindings)
