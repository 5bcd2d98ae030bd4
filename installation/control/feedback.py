"""OSC feedback: every controller shows the show's values, whatever changed them.

A tablet's faders, toggles, XY pad and value labels follow a key press, another tablet, the
schedule, sound-free MIDI or a config reload alike, because the values are read from each frame's
state, not from the messages heard. Who gets them: the ``--osc-feedback`` targets when given,
else every host a control message came from in the last 10 minutes (up to 16; TouchOSC sends
from a random port and listens on its own, 9000 by convention). A host that is moving a control
is not sent that control's value until its hand has rested 300 ms (the echo would make the
fader jump back under the finger), and each address goes to each target at most 20 times a
second, the latest value winning.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from installation.control.mapping import Control, Mapping
from installation.scene.commands import TOGGLES
from installation.scene.parameters import SPECS
from installation.scene.show import FrameState

TOUCHOSC_PORT = 9000
INTERVAL = 0.05
"""Seconds between two messages of one address to one target: a fader drag sends 20 a second."""
ECHO_SECONDS = 0.3
CONTROLLER_SECONDS = 600.0
MAX_CONTROLLERS = 16
Target = tuple[str, int]
Send = Callable[..., None]


def feedback_values(mapping: Mapping, state: FrameState) -> dict[str, tuple[Any, ...]]:
    """Every fed-back address and its arguments for this frame: the parameters' own addresses,
    each mapped control's 0..1 position(s) and the text of its value label."""
    settings = state.settings.as_dict()
    toggles = {"pause": state.conductor.paused, "blackout": settings["blackout"] >= 0.5}
    values: dict[str, tuple[Any, ...]] = {SPECS[name].address: (float(v),) for name, v in settings.items()}
    for control in mapping.controls.values():
        if control.action in TOGGLES:
            on = toggles[control.action]
            values[control.address] = (1.0 if on else 0.0,)
            values[control.label_address] = ("on" if on else "off",)
        elif control.parameters:
            values[control.address] = tuple(
                _position(control, name, settings[name]) for name, _, _ in control.parameters
            )
            values[control.label_address] = ("  ".join(f"{settings[name]:.2f}" for name, _, _ in control.parameters),)
    return values


def _position(control: Control, name: str, value: float) -> float:
    position = control.unscale(name, value)
    return 0.0 if position is None else position


class Feedback:
    """Who gets feedback and what each is still owed; ``heard`` runs on the OSC server thread,
    ``after_frame`` on the render thread."""

    def __init__(self, mapping: Mapping, targets: tuple[Target, ...] = (), port: int = TOUCHOSC_PORT) -> None:
        self.mapping = mapping
        self.fixed = targets
        self.port = port
        self._lock = threading.Lock()
        self._hosts: dict[str, float] = {}
        self._new: set[str] = set()
        self._moving: dict[tuple[str, str], float] = {}
        self._owed: dict[Target, dict[str, tuple[Any, ...]]] = {}
        self._sent_at: dict[tuple[Target, str], float] = {}
        self._shown: dict[str, tuple[Any, ...]] = {}

    def heard(self, host: str, address: str) -> None:
        """A control message from ``host``: it is a controller now, and it is moving ``address``."""
        now = time.monotonic()
        with self._lock:
            self._moving[(host, address)] = now
            if host not in self._hosts:
                self._new.add(host)
            self._hosts[host] = now
            if len(self._moving) > 64 * MAX_CONTROLLERS:
                self._moving = {key: t for key, t in self._moving.items() if now - t < ECHO_SECONDS}

    def targets(self) -> list[Target]:
        """The fixed targets, else the hosts heard from lately (the most recent 16)."""
        if self.fixed:
            return list(self.fixed)
        now = time.monotonic()
        with self._lock:
            for host in [h for h, t in self._hosts.items() if now - t > CONTROLLER_SECONDS]:
                del self._hosts[host]
            recent = sorted(self._hosts, key=self._hosts.__getitem__)[-MAX_CONTROLLERS:]
        return [(host, self.port) for host in recent]

    def after_frame(self, state: FrameState, send: Send) -> None:
        """Owe every target what changed this frame (a new one everything), then pay what may go."""
        values = feedback_values(self.mapping, state)
        changed = {address: args for address, args in values.items() if self._shown.get(address) != args}
        self._shown = values
        targets = self.targets()
        with self._lock:
            new, self._new = self._new, set()
        for target in [t for t in list(self._owed) if t not in targets]:
            del self._owed[target]
            self._sent_at = {key: t for key, t in self._sent_at.items() if key[0] != target}
        now = time.monotonic()
        for target in targets:
            owed = self._owed.setdefault(target, {})
            owed.update(values if target[0] in new else changed)
            self._pay(target, owed, now, send)

    def _pay(self, target: Target, owed: dict[str, tuple[Any, ...]], now: float, send: Send) -> None:
        for address, args in list(owed.items()):
            if now - self._moving.get((target[0], address), -1e9) < ECHO_SECONDS:
                continue  # its hand is on it: the latest value waits until it rests
            if now - self._sent_at.get((target, address), -1e9) < INTERVAL:
                continue
            send(target, address, *args)
            self._sent_at[(target, address)] = now
            del owed[address]
