"""The OSC server: datagrams parsed in a background thread into commands for the render loop.

The server thread parses (python-osc) and translates each message into the command table's
``Command``s, which it puts in the frame pipeline's queue; the render thread applies them between
frames, so nothing touches the show from another thread. ``/status`` is answered at once from the
last frame state (an immutable object). Nothing a datagram holds can stop the show: malformed
packets, wrong types or counts, NaN, inf and unknown addresses are counted, logged at debug
level, and dropped; out-of-range values are clamped. Only senders on the allowed networks are
heard (by default loopback and the private and link-local networks), and none past
``FLOOD_DATAGRAMS`` a second: the rest of its second's datagrams are dropped before they are
parsed. The thread reads the socket itself (no socketserver: one object less per datagram).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from pythonosc import osc_packet
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.control.feedback import TOUCHOSC_PORT, Feedback
from installation.control.mapping import Control, Mapping
from installation.errors import UserError
from installation.scene.commands import Command, CommandQueue, number, parse
from installation.scene.parameters import PLAYER_PARAMETERS
from installation.scene.show import FrameState
from installation.scene.wire import describe

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
MAX_DATAGRAM = 65535
POLL_SECONDS = 0.05
FLOOD_DATAGRAMS = 1000
"""Datagrams one sender may send in a second (a controller sends a few hundred; bundles count once);
the rest of that second's are dropped unparsed, so a flood costs the show little more than reading it."""
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


@functools.lru_cache(maxsize=4096)
def allowed(host: str | None, networks: tuple[Network, ...]) -> bool:
    """Whether a peer at ``host`` may be heard and answered: any when ``networks`` is empty.
    Remembered: a flood asks about one sender thousands of times a second."""
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
    command = parse(address[1:], args)
    return [] if command is None else [command]


def _control_commands(control: Control, args: tuple[Any, ...]) -> list[Command]:
    if control.action is not None:
        command = parse(control.action, args)
        return [] if command is None else [command]
    values = [number(arg) for arg in args]
    if len(values) != len(control.parameters) or any(value is None for value in values):
        return []
    return [Command("set", assignment) for assignment in control.scale(tuple(v for v in values if v is not None))]


class SentThisSecond:
    """What each sender sent in the current second: the measure of a flood, for UDP senders and
    websockets alike (cleared each second, so a thousand spoofed senders cannot grow it)."""

    def __init__(self) -> None:
        self._second = 0
        self._sent: Counter[Hashable] = Counter()

    def add(self, sender: Hashable, count: int = 1) -> int:
        """Count ``count`` more from ``sender``; how many it has sent this second."""
        second = int(time.monotonic())
        if second != self._second:
            self._second = second
            self._sent.clear()
        self._sent[sender] += count
        return self._sent[sender]


def packet_messages(data: bytes) -> list[OscMessage]:
    """The messages of an OSC packet, a bundle's included (never sleeping on its timetag); raises on
    anything malformed."""
    return [timed.message for timed in osc_packet.OscPacket(data).messages]


def _bind(host: str, port: int) -> socket.socket:
    """The OSC server's socket; a port that cannot be had is one sentence naming the fix."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        sock = socket.socket(family, socket.SOCK_DGRAM)
    except (OSError, OverflowError) as error:
        raise _port_error(port, error) from error
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise _port_error(port, error) from error
    sock.settimeout(POLL_SECONDS)  # the thread waits in the kernel, and notices close() this often
    return sock


def _resolve(target: tuple[str, int], family: int) -> tuple[str, int]:
    """A ``--osc-feedback`` target with its host name looked up once, here at the start: the
    render thread sends feedback every frame, and a name given to ``sendto`` is looked up at each
    send, so a slow DNS would stall frames."""
    host, port = target
    flags = socket.AI_V4MAPPED if family == socket.AF_INET6 else 0
    try:
        address = socket.getaddrinfo(host, port, family, socket.SOCK_DGRAM, 0, flags)[0][4]
    except (OSError, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise UserError(
            f"The --osc-feedback host {host} cannot be found ({reason}); give its IP address, "
            "such as 192.168.1.20:9000, or a name this machine can look up."
        ) from error
    return str(address[0]), port


def _port_error(port: int, error: Exception) -> UserError:
    reason = getattr(error, "strerror", None) or error
    return UserError(
        f"The OSC port {port} cannot be opened ({reason}); another program may be using it: choose "
        "another with --osc-port (1..65535), or --osc-port 0 to turn OSC off."
    )


class OscControl:
    """Listens on ``port`` and puts the commands it hears into ``commands``.

    ``latest`` gives the last frame state, for ``/status`` (with what ``hearing`` says of the sound
    input and ``reports`` of the rest of the show: its outputs); ``after_frame`` (render thread) sends
    the changes back to the controllers (``Feedback``): to the ``feedback`` targets when given,
    else to every host heard from lately, on ``feedback_port`` (a target's host name is looked up
    here, once, never on the render thread). ``flood``: the datagrams one sender
    may send a second; the rest of that second's are dropped before they are parsed.
    """

    def __init__(
        self,
        mapping: Mapping,
        commands: CommandQueue,
        latest: Callable[[], FrameState | None],
        port: int = DEFAULT_PORT,
        hearing: Callable[[], dict[str, object]] = dict,
        reports: Callable[[], dict[str, object]] = dict,
        host: str = "0.0.0.0",
        allow: tuple[Network, ...] = (),
        feedback: tuple[tuple[str, int], ...] = (),
        feedback_port: int = TOUCHOSC_PORT,
        flood: int = FLOOD_DATAGRAMS,
    ) -> None:
        self.mapping = mapping
        self.commands = commands
        self._latest = latest
        self._hearing = hearing
        self._reports = reports
        self.counts: Counter[str] = Counter()
        self._allow = allow
        self._flood = flood
        self._sent = SentThisSecond()
        self._socket = _bind(host, port)
        try:
            targets = tuple(_resolve(target, self._socket.family) for target in feedback)
        except UserError:
            self._socket.close()
            raise
        self.feedback = Feedback(mapping, targets, feedback_port)
        self.port: int = self._socket.getsockname()[1]
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="osc-server", daemon=True)
        self._thread.start()
        log.info("osc: listening on %s:%d", host, self.port)

    def _listen(self) -> None:
        """Server thread: read datagrams until closed; nothing a datagram holds ends it."""
        while not self._closing.is_set():
            try:
                data, sender = self._socket.recvfrom(MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError as error:  # an ICMP "port unreachable" for an answer we sent, or the close
                log.debug("osc: receiving: %s", error)
                continue
            try:
                self._take(data, (sender[0], sender[1]))
            except Exception:
                self.counts["errors"] += 1
                log.debug("osc: error handling a datagram from %s", sender, exc_info=True)

    def _take(self, data: bytes, sender: tuple[str, int]) -> None:
        """One datagram: refused or dropped before any parsing when it must be, else every message in it."""
        if not allowed(sender[0], self._allow):
            self.counts["refused"] += 1
            return
        if self._flooding(sender[0]):
            self.counts["flooding"] += 1
            return
        try:
            messages = packet_messages(data)
        except Exception as error:  # anything a datagram can do to the parser
            self.counts["malformed"] += 1
            log.debug("osc: malformed datagram from %s: %s", sender, error)
            return
        for message in messages:
            self._hear(Message(message.address, tuple(message.params), sender))

    def _flooding(self, host: str) -> bool:
        """Whether ``host`` is past its datagrams of this second (said once a second at most, and the
        log's own limit applies)."""
        sent = self._sent.add(host)
        if sent == self._flood + 1:
            log.warning(
                "osc: %s sends more than %d datagrams a second; the rest of this second's are dropped",
                host,
                self._flood,
            )
        return sent > self._flood

    def _hear(self, message: Message) -> None:
        """Server thread: answer ``/status``, queue the commands of anything else; count it last."""
        if message.address == "/status":
            state = self._latest()
            if state is not None:
                self._reply(message.sender, "/status", json.dumps(status(state, self._hearing()) | self._reports()))
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
            self._socket.sendto(osc_message(address, list(args)), target)
        except OSError as error:
            log.debug("osc: cannot answer %s: %s", target, error)

    def after_frame(self, state: FrameState) -> None:
        """Render thread: send every controller what changed, whatever changed it."""
        self.feedback.after_frame(state, self._reply)

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=2)
        self._socket.close()


def status(state: FrameState, hearing: dict[str, object] | None = None) -> dict[str, Any]:
    """Every setting, what sound makes of them, the input, and the conductor's state, for /status:
    the frame's one description (``scene/wire.py``)."""
    return describe(state).status(hearing)
