"""The OSC server: datagrams parsed in a background thread into commands for the render loop.

The server thread parses (python-osc) and translates each message into the command table's
``Command``s, which it puts in the frame pipeline's queue; the render thread applies them between
frames, so nothing touches the show from another thread. ``/status`` is answered at once from the
last frame state (an immutable object). Nothing a datagram holds can stop the show: malformed
packets, wrong types or counts, NaN, inf and unknown addresses are counted, logged at debug
level, and dropped; out-of-range values are clamped. Only senders on the allowed networks are
heard (by default loopback and the private and link-local networks).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pythonosc import osc_packet
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_server import BlockingOSCUDPServer

from installation.control.feedback import TOUCHOSC_PORT, Feedback
from installation.control.mapping import Control, Mapping
from installation.errors import UserError
from installation.scene.commands import Command, CommandQueue, number, parse
from installation.scene.parameters import PLAYER_PARAMETERS
from installation.scene.show import FrameState

log = logging.getLogger(__name__)
DEFAULT_PORT = 8000
LOCAL_NETWORKS = (
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
)
"""The default allow-list: this machine and the networks a router keeps private; never the internet."""
_ADDRESSES = {spec.address: spec.name for spec in PLAYER_PARAMETERS}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Message:
    address: str
    args: tuple[Any, ...]
    sender: tuple[str, int]


def networks(cidrs: list[str]) -> tuple[Network, ...]:
    """Parsed ``--osc-allow`` networks; ``any`` (or an empty list) allows every sender."""
    if not cidrs or "any" in cidrs:
        return ()
    try:
        return tuple(ipaddress.ip_network(cidr, strict=True) for cidr in cidrs)
    except ValueError as error:
        raise UserError(
            f"--osc-allow has a value that is not a network ({error}); write it as 192.168.1.0/24, 10.0.0.5 or any."
        ) from error


def osc_message(address: str, values: list[Any]) -> bytes:
    """One OSC message as a datagram (for UDP answers and websocket streams alike)."""
    builder = OscMessageBuilder(address=address)
    for value in values:
        builder.add_arg(value)
    return builder.build().dgram


def allowed(host: str | None, networks: tuple[Network, ...]) -> bool:
    """Whether a peer at ``host`` may be heard and answered: any when ``networks`` is empty."""
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


def translate(mapping: Mapping, address: str, args: tuple[Any, ...]) -> list[Command]:
    """The commands an OSC message asks for; empty when it asks for nothing valid."""
    control = mapping.controls.get(address)
    if control is not None:
        return _control_commands(control, args)
    if address in _ADDRESSES:
        value = number(args[0]) if len(args) == 1 else None
        return [] if value is None else [Command("set", (_ADDRESSES[address], value))]
    command = parse(address[1:], args) if address.count("/") == 1 else None
    return [] if command is None else [command]


def _control_commands(control: Control, args: tuple[Any, ...]) -> list[Command]:
    if control.action is not None:
        command = parse(control.action, args)
        return [] if command is None else [command]
    values = [number(arg) for arg in args]
    if len(values) != len(control.parameters) or any(value is None for value in values):
        return []
    return [Command("set", assignment) for assignment in control.scale(tuple(v for v in values if v is not None))]


class _Inbox(Dispatcher):
    """Parses packets (bundles included); never sleeps on a bundle's timetag."""

    def __init__(self, on_message: Callable[[Message], None], counts: Counter[str]) -> None:
        super().__init__(strict_timing=False)
        self.on_message = on_message
        self.counts = counts

    def call_handlers_for_packet(self, data: bytes, client_address: tuple[str, int]) -> list:
        try:
            messages = [timed.message for timed in osc_packet.OscPacket(data).messages]
        except Exception as error:  # anything a datagram can do to the parser
            self.counts["malformed"] += 1
            log.debug("osc: malformed datagram from %s: %s", client_address, error)
            return []
        for message in messages:
            self.on_message(Message(message.address, tuple(message.params), client_address))
        return []


class _Server(BlockingOSCUDPServer):
    allowed: tuple[Network, ...] = ()
    counts: Counter[str]

    def verify_request(self, request, client_address) -> bool:
        if allowed(client_address[0], self.allowed):
            return True
        self.counts["refused"] += 1
        return False

    def handle_error(self, request, client_address) -> None:
        self.counts["errors"] += 1
        log.debug("osc: error handling a datagram from %s", client_address, exc_info=True)


class OscControl:
    """Listens on ``port`` and puts the commands it hears into ``commands``.

    ``latest`` gives the last frame state, for ``/status``; ``after_frame`` (render thread) sends
    the changes back to the controllers (``Feedback``): to the ``feedback`` targets when given,
    else to every host heard from lately, on ``feedback_port``.
    """

    def __init__(
        self,
        mapping: Mapping,
        commands: CommandQueue,
        latest: Callable[[], FrameState | None],
        port: int = DEFAULT_PORT,
        hearing: Callable[[], dict[str, object]] = dict,
        host: str = "0.0.0.0",
        allow: tuple[Network, ...] = (),
        feedback: tuple[tuple[str, int], ...] = (),
        feedback_port: int = TOUCHOSC_PORT,
    ) -> None:
        self.mapping = mapping
        self.commands = commands
        self._latest = latest
        self._hearing = hearing
        self.counts: Counter[str] = Counter()
        self.feedback = Feedback(mapping, feedback, feedback_port)
        try:
            self._server = _Server((host, port), _Inbox(self._hear, self.counts))
        except (OSError, OverflowError) as error:
            reason = getattr(error, "strerror", None) or error
            raise UserError(
                f"The OSC port {port} cannot be opened ({reason}); another program may be using it: choose "
                "another with --osc-port (1..65535), or --osc-port 0 to turn OSC off."
            ) from error
        self._server.counts = self.counts
        self._server.allowed = allow
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="osc-server", daemon=True
        )
        self._thread.start()
        log.info("osc: listening on %s:%d", host, self.port)

    def _hear(self, message: Message) -> None:
        """Server thread: answer ``/status``, queue the commands of anything else; count it last."""
        if message.address == "/status":
            state = self._latest()
            if state is not None:
                self._reply(message.sender, "/status", json.dumps(status(state, self._hearing())))
        else:
            self._queue(message)
        self.counts["received"] += 1

    def _queue(self, message: Message) -> None:
        commands = translate(self.mapping, message.address, message.args)
        if not commands:
            self.counts["ignored"] += 1
            log.debug("osc: ignored %s %r from %s", message.address, message.args[:4], message.sender)
        else:
            self.feedback.heard(message.sender[0], message.address)
        for command in commands:
            if not self.commands.put(command):
                self.counts["dropped"] += 1

    def _reply(self, target: tuple[str, int], address: str, *args: Any) -> None:
        try:
            self._server.socket.sendto(osc_message(address, list(args)), target)
        except OSError as error:
            log.debug("osc: cannot answer %s: %s", target, error)

    def after_frame(self, state: FrameState) -> None:
        """Render thread: send every controller what changed, whatever changed it."""
        self.feedback.after_frame(state, self._reply)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)


def status(state: FrameState, hearing: dict[str, object] | None = None) -> dict[str, Any]:
    """Every setting, what sound makes of them, the input, and the conductor's state, for /status."""
    conductor = state.conductor
    features = {name: getattr(state.sound, name) for name in ("level", "bass", "mid", "treble", "kick")}
    return {
        "parameters": state.settings.as_dict(),
        "applied": state.values.as_dict(),
        "sound": features | (hearing or {}),
        "conductor": {
            "keyframe": conductor.index,
            "target": conductor.target,
            "progress": conductor.progress,
            "paused": conductor.paused,
            "transitions": conductor.transition,
            "keyframes": state.stage.count,
        },
        "sequence": state.stage.name,
        "time": state.time,
    }
