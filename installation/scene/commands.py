"""The command table: every action a surface can ask of the show, in one place.

Keys, OSC, the controller mapping and any later surface (MIDI, a web page) turn their input into
a ``Command`` and put it in the ``CommandQueue``; the frame pipeline applies the queue on the
render thread between frames, in arrival order. ``parse`` turns a surface's raw arguments (OSC
values: numbers, strings, a bare message) into the command's arguments, or None when they make
no sense; a command never raises, so no input can stop the show.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from installation.scene.parameters import PLAYER_PARAMETERS
from installation.scene.presets import shipped_presets
from installation.scene.show import Show
from installation.scene.tempo import SYNCS, TempoPolicy, valid_tempo

MAX_NAME = 255
"""The longest sequence name a command carries (a file name's limit on most file systems)."""


@dataclass(frozen=True)
class Command:
    """One request: the name of a table entry and its parsed arguments."""

    name: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class CommandSpec:
    """A table entry. ``waits_for_switch``: it acts on keyframes, so it waits for a pending sequence."""

    name: str
    help: str
    arguments: str
    """OSC type tags of its arguments: "" none, "T" a button (1 pressed, 0 released), "i", "s", "sf"."""
    parse: Callable[[tuple[Any, ...]], tuple[Any, ...] | None]
    run: Callable[[Show, tuple[Any, ...]], None]
    waits_for_switch: bool = True


def number(value: Any) -> float | None:
    """A finite number from an OSC argument (True is 1), else None."""
    if isinstance(value, (bool, int, float)) and math.isfinite(float(value)):
        return float(value)
    return None


def _button(args: tuple[Any, ...]) -> tuple[bool] | None:
    """Push buttons send 1 then 0: a bare message or a non-zero first argument is a press."""
    if not args:
        return (True,)
    value = number(args[0])
    return None if value is None or len(args) > 1 else (value > 0.5,)


def _toggle_or_button(args: tuple[Any, ...]) -> tuple[bool | None] | None:
    """A bare message toggles; a value sets (toggle controls send 1 and 0)."""
    return (None,) if not args else _button(args)


def _index(args: tuple[Any, ...]) -> tuple[int] | None:
    value = number(args[0]) if len(args) == 1 else None
    return None if value is None else (int(min(max(value, -1e9), 1e9)),)


def _name(args: tuple[Any, ...]) -> tuple[str] | None:
    if len(args) == 1 and isinstance(args[0], str) and 0 < len(args[0]) <= MAX_NAME:
        return (args[0],)
    return None


def _assignment(args: tuple[Any, ...]) -> tuple[str, float] | None:
    if len(args) == 2 and isinstance(args[0], str) and (value := number(args[1])) is not None:
        return (args[0], value)
    return None


class Learning:
    """What the next control moved on a learning surface (MIDI) is bound to.

    ``/learn NAME`` asks a surface, not the show: the command only records the request here, in
    order with the other commands, and the MIDI surface takes it when a control moves.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._target: str | None = None

    def ask(self, target: str) -> None:
        with self._lock:
            self._target = target

    def take(self) -> str | None:
        """The waiting request, once."""
        with self._lock:
            target, self._target = self._target, None
        return target


LEARNING = Learning()


class Mailbox:
    """Requests for a surface outside the show (the visitors' desk, in its own process), in order.

    Like ``/learn``, a visitors command asks that surface, not the show: the command only posts it
    here and the surface's link takes it. Bounded: a show without visitors drops the oldest.
    """

    LIMIT = 64

    def __init__(self) -> None:
        self._requests: deque[Command] = deque(maxlen=self.LIMIT)

    def post(self, command: Command) -> None:
        self._requests.append(command)

    def take(self) -> list[Command]:
        """The waiting requests, oldest first, once."""
        taken = []
        while self._requests:
            try:
                taken.append(self._requests.popleft())
            except IndexError:
                break
        return taken


VISITOR_REQUESTS = Mailbox()
VISITORS = "visitors/"
"""The prefix of the commands for the visitors' desk (``play --visitors``)."""


def _for_visitors(name: str) -> Callable[[Show, tuple[Any, ...]], None]:
    return lambda show, args: VISITOR_REQUESTS.post(Command(name, args))


def _learnable(args: tuple[Any, ...]) -> tuple[str] | None:
    """A parameter name, or a command a button runs (next, prev, pause, blackout)."""
    names = {spec.name for spec in PLAYER_PARAMETERS} | {n for n, spec in COMMANDS.items() if spec.arguments == "T"}
    return (args[0],) if len(args) == 1 and args[0] in names else None


def _next(show: Show, args: tuple[Any, ...]) -> None:
    if args[0]:
        show.conductor.next()


def _prev(show: Show, args: tuple[Any, ...]) -> None:
    if args[0]:
        show.conductor.prev()


def _blackout(show: Show, args: tuple[Any, ...]) -> None:
    on = args[0] if args[0] is not None else show.parameters.target("blackout") < 0.5
    show.parameters.set("blackout", 1.0 if on else 0.0)


def _sequence(show: Show, args: tuple[Any, ...]) -> None:
    show.requested = args[0]


def _set(show: Show, args: tuple[Any, ...]) -> None:
    show.parameters.set(args[0], args[1])


def _tempo(args: tuple[Any, ...]) -> tuple[float] | None:
    """A tempo in BPM within 20..999 (NaN, inf and the rest are refused: counted, never applied)."""
    value = number(args[0]) if len(args) == 1 else None
    return (value,) if value is not None and valid_tempo(value) else None


def _sync_name(args: tuple[Any, ...]) -> tuple[str] | None:
    return (args[0],) if len(args) == 1 and args[0] in SYNCS else None


def _with_tempo(act: Callable[[TempoPolicy, tuple[Any, ...]], object]) -> Callable[[Show, tuple[Any, ...]], None]:
    """A command that acts on the show's tempo; a show without a tempo policy (a capture) ignores it."""

    def run(show: Show, args: tuple[Any, ...]) -> None:
        if isinstance(show.policy, TempoPolicy):
            act(show.policy, args)

    return run


def _preset_name(args: tuple[Any, ...]) -> tuple[str] | None:
    """A shipped preset's name (a surface never makes the show read a file)."""
    return (args[0],) if len(args) == 1 and isinstance(args[0], str) and args[0] in shipped_presets() else None


def _preset(show: Show, args: tuple[Any, ...]) -> None:
    show.parameters.glide(shipped_presets()[args[0]].values)


COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec("next", "move on to the next keyframe now", "T", _button, _next),
        CommandSpec("prev", "move back to the previous keyframe now", "T", _button, _prev),
        CommandSpec(
            "goto", "move to keyframe i (0 is the first)", "i", _index, lambda show, a: show.conductor.goto(a[0])
        ),
        CommandSpec(
            "pause",
            "freeze the show (1), go on (0); no argument toggles",
            "T",
            _toggle_or_button,
            lambda show, a: show.conductor.pause(a[0]),
        ),
        CommandSpec(
            "blackout",
            "fade to black (1) or back (0); no argument toggles",
            "T",
            _toggle_or_button,
            _blackout,
            waits_for_switch=False,
        ),
        CommandSpec(
            "sequence",
            "play the sequence of this name from the keyframes or playlist folder",
            "s",
            _name,
            _sequence,
            waits_for_switch=False,
        ),
        CommandSpec(
            "learn",
            "bind the next MIDI control moved to this parameter or action, and save the map",
            "s",
            _learnable,
            lambda show, a: LEARNING.ask(a[0]),
            waits_for_switch=False,
        ),
        CommandSpec(
            "preset",
            "glide to a named look over a second (gentle, drift, storm, swarm); other parameters stay",
            "s",
            _preset_name,
            _preset,
            waits_for_switch=False,
        ),
        CommandSpec(
            "sync",
            "follow a beat: free, link (Ableton Link), midi (MIDI clock), tap, audio (the sound's onsets)",
            "s",
            _sync_name,
            _with_tempo(lambda policy, a: policy.sync(a[0])),
            waits_for_switch=False,
        ),
        CommandSpec(
            "tempo",
            "set the tempo in BPM (20..999) of the beat followed (Link: the whole session's)",
            "f",
            _tempo,
            _with_tempo(lambda policy, a: policy.set_tempo(a[0])),
            waits_for_switch=False,
        ),
        CommandSpec(
            "tap",
            "tap the beat (with --sync tap): four taps set the tempo, the last the downbeat",
            "T",
            _button,
            _with_tempo(lambda policy, a: a[0] and policy.tap()),
            waits_for_switch=False,
        ),
        CommandSpec(
            "set",
            "set a parameter: name, value (clamped to its range)",
            "sf",
            _assignment,
            _set,
            waits_for_switch=False,
        ),
        *(
            CommandSpec(VISITORS + name, help, arguments, parse, _for_visitors(VISITORS + name), waits_for_switch=False)
            for name, help, arguments, parse in (
                (
                    "pause",
                    "visitors: take no wishes (1), take them again (0); no argument toggles",
                    "T",
                    _toggle_or_button,
                ),
                (
                    "approve",
                    "visitors: wishes wait for the operator's tap (1), or go straight into the queue (0)",
                    "T",
                    _toggle_or_button,
                ),
                ("clear", "visitors: refuse every waiting wish", "T", _button),
                ("accept", "visitors: make the waiting wish of this number", "i", _index),
                ("refuse", "visitors: refuse the waiting wish of this number", "i", _index),
                ("delete", "visitors: delete the made sequence of this name", "s", _name),
            )
        ),
    )
}
ACTIONS = tuple(name for name, spec in COMMANDS.items() if spec.arguments == "T")
"""Commands a button fires: what a controller map's ``action`` may name."""
TOGGLES = tuple(name for name, spec in COMMANDS.items() if spec.parse is _toggle_or_button)
"""Actions that hold a state (a toggle shows it); the others (next, prev) are pushes."""


def parse(name: str, args: tuple[Any, ...]) -> Command | None:
    """The command ``name`` with raw ``args`` from a surface, or None when either is wrong."""
    spec = COMMANDS.get(name)
    parsed = spec.parse(args) if spec is not None else None
    return None if parsed is None else Command(name, parsed)


def run(show: Show, command: Command) -> None:
    """Apply a parsed command to ``show``."""
    COMMANDS[command.name].run(show, command.args)


class CommandQueue:
    """Commands from any thread, taken by the render thread; full, it drops (a flood never grows memory).

    A deque's append and popleft are atomic, so a flood of 10,000 messages a second costs no
    lock per command on either side.
    """

    LIMIT = 50_000

    def __init__(self) -> None:
        self._queue: deque[Command] = deque()
        self.dropped = 0

    def put(self, command: Command) -> bool:
        if len(self._queue) >= self.LIMIT:
            self.dropped += 1
            return False
        self._queue.append(command)
        return True

    def take(self) -> list[Command]:
        """The commands waiting now, in arrival order (not those that arrive meanwhile). A parameter
        set again later in the same take is set once, to its last value, where that one stands: the
        same show, and a fader dragged or flooded over the network costs one set a frame."""
        taken = []
        for _ in range(len(self._queue)):
            try:
                taken.append(self._queue.popleft())
            except IndexError:
                break
        last_set = {command.args[0]: index for index, command in enumerate(taken) if command.name == "set"}
        return [
            command
            for index, command in enumerate(taken)
            if command.name != "set" or last_set[command.args[0]] == index
        ]
