"""The OSC server: datagrams in a background thread, applied by the render loop once per frame.

The server thread only parses (python-osc) and queues; the render thread dispatches, so a value
sent is applied by the next frame and nothing touches the show from another thread. Nothing a
datagram holds can stop the show: malformed packets, wrong types or counts, NaN, inf and unknown
addresses are counted, logged at debug level, and dropped; out-of-range values are clamped.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

from pythonosc import osc_packet
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_server import BlockingOSCUDPServer

from installation.control.mapping import Control, Mapping
from installation.errors import UserError
from installation.scene.parameters import PLAYER_PARAMETERS
from installation.scene.show import Show

log = logging.getLogger(__name__)
DEFAULT_PORT = 8000
TOUCHOSC_PORT = 9000
FEEDBACK_INTERVAL = 0.05
"""Seconds between two feedback messages for one address: a fader drag sends 20 a second."""
_QUEUE_LIMIT = 50_000
_ADDRESSES = {spec.address: spec.name for spec in PLAYER_PARAMETERS}


@dataclass(frozen=True)
class Message:
    address: str
    args: tuple[Any, ...]
    sender: tuple[str, int]


class _Inbox(Dispatcher):
    """Parses packets (bundles included) into a queue; never sleeps on a bundle's timetag."""

    def __init__(self, inbox: queue.Queue[Message], counts: Counter[str]) -> None:
        super().__init__(strict_timing=False)
        self.inbox = inbox
        self.counts = counts

    def call_handlers_for_packet(self, data: bytes, client_address: tuple[str, int]) -> list:
        try:
            messages = [timed.message for timed in osc_packet.OscPacket(data).messages]
        except Exception as error:  # anything a datagram can do to the parser
            self.counts["malformed"] += 1
            log.debug("osc: malformed datagram from %s: %s", client_address, error)
            return []
        for message in messages:
            try:
                self.inbox.put_nowait(Message(message.address, tuple(message.params), client_address))
            except queue.Full:
                self.counts["dropped"] += 1
        return []


class _Server(BlockingOSCUDPServer):
    allowed: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    counts: Counter[str]

    def verify_request(self, request, client_address) -> bool:
        if not self.allowed:
            return True
        address = ipaddress.ip_address(client_address[0])
        if any(address in network for network in self.allowed):
            return True
        self.counts["refused"] += 1
        return False

    def handle_error(self, request, client_address) -> None:
        self.counts["errors"] += 1
        log.debug("osc: error handling a datagram from %s", client_address, exc_info=True)


class OscControl:
    """Listens on ``port``; ``apply(show)`` once per frame carries the messages into the show."""

    def __init__(
        self,
        mapping: Mapping,
        port: int = DEFAULT_PORT,
        host: str = "0.0.0.0",
        allow: list[str] | None = None,
        feedback: tuple[str, int] | None = None,
    ) -> None:
        self.mapping = mapping
        self.counts: Counter[str] = Counter()
        self._inbox: queue.Queue[Message] = queue.Queue(maxsize=_QUEUE_LIMIT)
        self._feedback_target = feedback
        self._last_sender: str | None = None
        self._sent: dict[str, float] = {}
        self._pending_feedback: dict[str, float] = {}
        self._last_values: dict[str, float] | None = None
        self.on_sequence: Callable[[str], bool] | None = None
        """Called with NAME for ``/sequence NAME``; the player sets it."""
        try:
            self._server = _Server((host, port), _Inbox(self._inbox, self.counts))
        except OSError as error:
            raise UserError(
                f"The OSC port {port} cannot be opened ({error.strerror or error}); another program may be "
                "using it: choose another with --osc-port, or --osc-port 0 to turn OSC off."
            ) from error
        self._server.counts = self.counts
        self._server.allowed = tuple(ipaddress.ip_network(cidr, strict=False) for cidr in allow or ())
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="osc-server", daemon=True
        )
        self._thread.start()
        log.info("osc: listening on %s:%d", host, self.port)

    def apply(self, show: Show) -> int:
        """Carry every queued message into ``show``; return how many were applied."""
        if self._last_values is None:
            self._last_values = show.parameters.targets()  # what changes from here is fed back
        applied = 0
        while True:
            try:
                message = self._inbox.get_nowait()
            except queue.Empty:
                break
            self.counts["received"] += 1
            if self._dispatch(message, show):
                applied += 1
            else:
                self.counts["ignored"] += 1
                log.debug("osc: ignored %s %r from %s", message.address, message.args, message.sender)
        self._send_feedback(show)
        return applied

    def _dispatch(self, message: Message, show: Show) -> bool:
        address, args = message.address, message.args
        self._last_sender = message.sender[0]
        if address == "/status":
            self._reply(message.sender, "/status", json.dumps(status(show)))
            return True
        if address == "/sequence":
            name = args[0] if len(args) == 1 and isinstance(args[0], str) else None
            return name is not None and self.on_sequence is not None and self.on_sequence(name)
        control = self.mapping.controls.get(address)
        if control is not None:
            return _run_control(control, args, show)
        if address in _ADDRESSES:
            return len(args) == 1 and _number(args[0]) is not None and show.parameters.set(_ADDRESSES[address], _number(args[0]))
        return _run_action(address.lstrip("/"), args, show)

    def _reply(self, target: tuple[str, int], address: str, *args: Any) -> None:
        builder = OscMessageBuilder(address=address)
        for arg in args:
            builder.add_arg(arg)
        try:
            self._server.socket.sendto(builder.build().dgram, target)
        except OSError as error:
            log.debug("osc: cannot answer %s: %s", target, error)

    def _send_feedback(self, show: Show) -> None:
        """Send parameters that changed to the controller, at most 20 times a second per address."""
        values = show.parameters.targets()
        target = self._feedback_target or (self._last_sender and (self._last_sender, TOUCHOSC_PORT))
        if target:
            for name, value in values.items():
                if value != self._last_values[name]:
                    self._queue_feedback(name, value)
        self._last_values = values
        now = time.monotonic()
        for address, value in list(self._pending_feedback.items()):
            if target and now - self._sent.get(address, 0.0) >= FEEDBACK_INTERVAL:
                self._reply(target, address, float(value))
                self._sent[address] = now
                del self._pending_feedback[address]

    def _queue_feedback(self, name: str, value: float) -> None:
        self._pending_feedback["/" + name.replace("_", "/")] = value
        for control in self.mapping.controls.values():
            position = control.unscale(name, value)
            if position is not None and len(control.parameters) == 1:
                self._pending_feedback[control.address] = position

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _pressed(args: tuple[Any, ...]) -> bool:
    """Push buttons send 1 then 0: act on a bare message or a non-zero first argument."""
    return not args or (_number(args[0]) or 0.0) > 0.5


def _run_control(control: Control, args: tuple[Any, ...], show: Show) -> bool:
    if control.action is not None:
        return _run_action(control.action, args, show)
    values = tuple(_number(arg) for arg in args)
    if len(values) != len(control.parameters) or any(v is None for v in values):
        return False
    return all(show.parameters.set(name, value) for name, value in control.scale(values))


def _run_action(action: str, args: tuple[Any, ...], show: Show) -> bool:
    conductor = show.conductor
    if action in ("next", "prev"):
        if _pressed(args):
            conductor.next() if action == "next" else conductor.prev()
        return True
    if action == "goto":
        index = _number(args[0]) if len(args) == 1 else None
        if index is None or not math.isfinite(index):
            return False
        conductor.goto(int(index))
        return True
    if action == "pause":
        conductor.pause(None if not args else _pressed(args))
        return True
    if action == "blackout":
        return show.parameters.set("blackout", 1.0 if _pressed(args) else 0.0)
    return False


def status(show: Show) -> dict[str, Any]:
    """Every parameter and the conductor's state, as sent in answer to /status."""
    state = show.conductor.state()
    return {
        "parameters": show.parameters.targets(),
        "conductor": {
            "keyframe": state.index,
            "target": state.target,
            "progress": state.progress,
            "paused": state.paused,
            "transitions": state.transition,
            "keyframes": show.conductor.count,
            "order": show.conductor.order.value,
        },
        "sequence": show.sequence.name,
    }
