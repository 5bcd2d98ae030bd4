"""MIDI controllers: CCs and notes into the command table, LEDs and motor faders fed back, learn.

mido (with python-rtmidi, the optional extra ``midi``) reads the controller. Its messages arrive
on rtmidi's own thread and become ``Command``s in the frame pipeline's queue, as OSC does; a
helper thread finds the controller by name (indices change when devices come and go), and every
3 s looks for it again when it is absent or was unplugged, so nothing waits on MIDI on the render
thread. ``after_frame`` (render thread) only writes a few bytes to the controller's output when
a toggle or a fed-back parameter changed. Without a MIDI system (no python-rtmidi, no ALSA
sequencer, no JACK server) the show runs on with one warning.
"""

from __future__ import annotations

import getpass
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from installation.backoff import Backoff
from installation.control.mapping import Mapping
from installation.control.midimap import MidiBinding, learned, save_midi
from installation.files import write_atomically
from installation.scene.commands import LEARNING, Command, CommandQueue, Learning
from installation.scene.parameters import SPECS
from installation.scene.show import FrameState

log = logging.getLogger(__name__)
RETRY_SECONDS = 3.0
RETRY_LIMIT_SECONDS = 30.0
"""The longest pause between two looks for a controller that stays missing (it doubles up to this)."""
"""How often an absent controller is looked for again (and a present one checked)."""
ECHO_SECONDS = 0.3
"""A control moved this recently is not sent its own value back: it would fight the hand."""


@dataclass(frozen=True)
class Event:
    """One MIDI message, reduced to what the map binds: a CC's value or a note's press."""

    kind: str
    number: int
    channel: int
    value: int


def event_of(message: Any) -> Event | None:
    """A mido message as an ``Event``; None for the kinds nothing binds (clock, sysex, ...)."""
    if message.type == "control_change":
        return Event("cc", message.control, message.channel, message.value)
    if message.type in ("note_on", "note_off"):
        velocity = message.velocity if message.type == "note_on" else 0
        return Event("note", message.note, message.channel, velocity)
    return None


class Translator:
    """Events to commands through the map's bindings; keeps the high byte of 14-bit CC pairs."""

    def __init__(self, bindings: tuple[MidiBinding, ...]) -> None:
        self.bindings = bindings
        self._high: dict[tuple[int, int], int] = {}
        self.moved: dict[tuple[str, int, int | None], float] = {}
        """When each binding was last moved by hand (monotonic seconds), against echoes."""

    def commands(self, event: Event) -> list[Command]:
        for binding in self.bindings:
            if binding.channel not in (None, event.channel) or binding.kind != event.kind:
                continue
            if binding.lsb == event.number:
                high = self._high.get((event.channel, binding.number), 0)
                return self._position(binding, ((high << 7) | event.value) / 16383.0)
            if binding.number == event.number:
                return self._bound(binding, event)
        return []

    def _bound(self, binding: MidiBinding, event: Event) -> list[Command]:
        if binding.action is not None:
            pressed = event.value > 0
            if not pressed:
                return []  # a release; toggles flip on the press, as the keys do
            return [Command(binding.action, (None,) if binding.action in ("pause", "blackout") else (True,))]
        if binding.lsb is not None:
            self._high[(event.channel, binding.number)] = event.value
            return self._position(binding, (event.value << 7) / 16383.0)
        return self._position(binding, event.value / 127.0)

    def _position(self, binding: MidiBinding, position: float) -> list[Command]:
        self.moved[binding.key] = time.monotonic()
        assignment = binding.scale(position)
        return [] if assignment is None else [Command("set", assignment)]


def learn_binding(target: str, event: Event) -> MidiBinding:
    """The binding ``/learn target`` makes of the control that moved: a parameter gets the
    control's full travel over the parameter's range; a button runs the action."""
    if target in SPECS:
        spec = SPECS[target]
        return MidiBinding(event.kind, event.number, event.channel, parameter=(target, spec.minimum, spec.maximum))
    led = (127, 0) if target in ("pause", "blackout") else None
    return MidiBinding(event.kind, event.number, event.channel, action=target, led=led)


def feedback_messages(bindings: tuple[MidiBinding, ...], state: FrameState) -> dict[tuple[str, int, int], int]:
    """What the controller's LEDs and motor faders should show for this frame:
    (kind, number, channel) -> the velocity or CC value."""
    settings = state.settings.as_dict()
    toggles = {"pause": state.conductor.paused, "blackout": settings["blackout"] >= 0.5}
    wanted: dict[tuple[str, int, int], int] = {}
    for binding in bindings:
        channel = binding.channel or 0
        if binding.led is not None and binding.action in toggles:
            wanted[(binding.kind, binding.number, channel)] = binding.led[0 if toggles[binding.action] else 1]
        elif binding.feedback and binding.parameter is not None:
            position = binding.unscale(settings[binding.parameter[0]])
            if binding.lsb is None:
                wanted[("cc", binding.number, channel)] = round(position * 127)
            else:
                fine = round(position * 16383)
                wanted[("cc", binding.number, channel)] = fine >> 7
                wanted[("cc", binding.lsb, channel)] = fine & 127
    return wanted


def write_map(path: Path, text: str) -> None:
    """Save a learned map whole or not at all (``write_atomically``): another show learning into
    the same file, or a power cut, never leaves half a map or mixes two."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text)


def midi_api() -> str | None:
    """The rtmidi API that has a MIDI system here: the ALSA sequencer, else a running JACK
    server (looked for by its socket, so that an absent server costs no error output)."""
    if os.path.exists("/dev/snd/seq"):
        return "LINUX_ALSA"
    server = os.environ.get("JACK_DEFAULT_SERVER", "default")
    folder = os.environ.get("JACK_TMPDIR", "/dev/shm")
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return "UNIX_JACK" if os.path.exists(f"{folder}/jack_{server}_{uid}_0") else None


def _backend() -> Any | None:
    """mido's rtmidi backend on the API that works here, or None (no extra, no MIDI system)."""
    api = midi_api()
    if api is None:
        return None
    try:
        import mido
        import rtmidi  # noqa: F401  (mido imports it lazily; a missing one should fail here)
    except ImportError:
        return None
    return mido.Backend(f"mido.backends.rtmidi/{api}", load=True)


def list_inputs() -> list[str]:
    """The MIDI inputs' names, for ``metamorph devices`` and ``play --midi NAME``."""
    backend = _backend()
    return [] if backend is None else list(backend.get_input_names())


def why_no_midi() -> str | None:
    """Why MIDI cannot work here, in words, or None when it can."""
    try:
        import mido  # noqa: F401
        import rtmidi  # noqa: F401
    except ImportError:
        return "mido and python-rtmidi are not installed (pip install -e '.[midi]')"
    if midi_api() is None:
        return f"there is no MIDI system (no ALSA sequencer, no JACK server) for user {getpass.getuser()}"
    return None


class MidiControl:
    """The controller whose input name contains ``name``: heard, fed back, retried by name."""

    def __init__(
        self,
        mapping: Mapping,
        commands: CommandQueue,
        name: str,
        save_to: Path,
        learning: Learning = LEARNING,
        backend: Callable[[], Any | None] = _backend,
    ) -> None:
        self.name = name
        self.mapping = mapping
        self.commands = commands
        self.save_to = save_to
        self.learning = learning
        self.translator = Translator(mapping.midi)
        self.device: str | None = None
        self.counts = {"received": 0, "ignored": 0, "learned": 0}
        self._backend = backend
        self._lock = threading.Lock()
        self._input: Any = None
        self._output: Any = None
        self._shown: dict[tuple[str, int, int], int] = {}
        self._stop = threading.Event()
        self._warned = False
        self._thread = threading.Thread(target=self._keep_connected, name="midi-connect", daemon=True)
        self._thread.start()

    # The connection (helper thread) -----------------------------------------------------------

    def _keep_connected(self) -> None:
        """Watch the controller every RETRY_SECONDS while it is there; while it is missing, look
        for it less and less often (listing ports costs: under JACK each listing is a client)."""
        missing = Backoff(RETRY_SECONDS, RETRY_LIMIT_SECONDS)
        while not self._stop.is_set():
            try:
                self._check()
            except Exception as error:  # a MIDI system that fails in any way must not end the show
                log.debug("midi: looking for %r failed: %s", self.name, error)
                self._disconnect()
            if self.device is not None:
                missing.succeeded()
            self._stop.wait(RETRY_SECONDS if self.device is not None else missing.failed())

    def _check(self) -> None:
        backend = self._backend()
        if backend is None:
            self._warn_once(why_no_midi() or "no MIDI system")
            return
        inputs = list(backend.get_input_names())
        if self.device is not None and self.device not in inputs:
            log.warning("midi: %s is gone; looking for it again from %.0f s on", self.device, RETRY_SECONDS)
            self._disconnect()
        if self.device is None:
            found = next((port for port in inputs if self.name.lower() in port.lower()), None)
            if found is None:
                self._warn_once(f"no MIDI input's name contains {self.name!r} (inputs: {', '.join(inputs) or 'none'})")
            else:
                self._connect(backend, found)

    def _warn_once(self, why: str) -> None:
        if not self._warned:
            log.warning(
                "midi: %s; the show goes on and looks again in %.0f s, then less often (up to every %.0f s)",
                why,
                RETRY_SECONDS,
                RETRY_LIMIT_SECONDS,
            )
            self._warned = True

    def _connect(self, backend: Any, port: str) -> None:
        opened = backend.open_input(port, callback=self._hear)
        outputs = [name for name in backend.get_output_names() if self.name.lower() in name.lower()]
        output = backend.open_output(outputs[0]) if outputs else None
        with self._lock:
            self._input, self._output, self.device = opened, output, port
            self._shown = {}  # a (re)connected controller is shown every LED again
        self._warned = False
        log.info("midi: listening to %s%s", port, f", feedback to {outputs[0]}" if outputs else "")

    def _disconnect(self) -> None:
        with self._lock:
            ports, self._input, self._output, self.device = (self._input, self._output), None, None, None
        for port in ports:
            if port is not None:
                try:
                    port.close()
                except Exception as error:  # closing a port whose device vanished
                    log.debug("midi: closing %s: %s", port, error)

    # Messages (rtmidi's thread) ---------------------------------------------------------------

    def _hear(self, message: Any) -> None:
        event = event_of(message)
        self.counts["received"] += 1
        if event is None:
            self.counts["ignored"] += 1
            return
        moving = event.kind == "cc" or event.value > 0  # a note's release is no movement to learn
        target = self.learning.take() if moving else None
        if target is not None:
            self._learn(target, event)
            return
        commands = self.translator.commands(event)
        if not commands:
            self.counts["ignored"] += 1
        for command in commands:
            self.commands.put(command)

    def _learn(self, target: str, event: Event) -> None:
        binding = learn_binding(target, event)
        bindings = learned(self.translator.bindings, binding)
        self.translator.bindings = bindings
        self.mapping = replace(self.mapping, midi=bindings)
        self.counts["learned"] += 1
        try:
            source = self.mapping.text or self.mapping.path.read_text(encoding="utf-8")
            write_map(self.save_to, save_midi(source, bindings))
            log.info("midi: %s %d now drives %s; map saved to %s", event.kind, event.number, target, self.save_to)
        except OSError as error:
            log.warning(
                "midi: %s %d drives %s, but the map cannot be saved (%s)", event.kind, event.number, target, error
            )

    # Feedback (render thread) -----------------------------------------------------------------

    def after_frame(self, state: FrameState) -> None:
        """Light the LEDs and move the motor faders whose value changed, not those being moved."""
        if self._output is None:
            return
        now = time.monotonic()
        wanted = feedback_messages(self.translator.bindings, state)
        moved = self.translator.moved
        with self._lock:
            for (kind, number, channel), value in wanted.items():
                if self._shown.get((kind, number, channel)) == value:
                    continue
                if now - moved.get((kind, number, channel), moved.get((kind, number, None), -1e9)) < ECHO_SECONDS:
                    continue
                self._send(kind, number, channel, value)
                self._shown[(kind, number, channel)] = value

    def _send(self, kind: str, number: int, channel: int, value: int) -> None:
        import mido

        if kind == "cc":
            message = mido.Message("control_change", channel=channel, control=number, value=value)
        else:
            message = mido.Message("note_on", channel=channel, note=number, velocity=value)
        try:
            self._output.send(message)
        except Exception as error:  # the device left between two checks
            log.debug("midi: cannot send %s: %s", message, error)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._disconnect()
