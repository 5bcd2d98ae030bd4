"""The wall's link: the leader sends each frame's wire form to its followers, one UDP packet a frame.

A follower says hello to its leader twice a second from the socket it receives on; the leader
sends every frame to each follower it heard from in the last ``FORGET_SECONDS`` (at most
``MAX_FOLLOWERS``, from the allowed networks only). So followers join mid-show, and a leader that
restarts finds its followers again by their next hello, with nothing to configure on the leader.
A frame packet carries the leader's session (random at each start: a restarted leader's frames
are taken even though their numbers start again from 0) and the frame's wire form
(``scene/wire.py``). A follower takes packets from its leader's address and port alone, decodes
every one as hostile, and keeps the newest: a late or repeated packet is dropped.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from installation.control.osc import Network, allowed
from installation.errors import UserError
from installation.scene.show import FrameState
from installation.scene.stage import Stage
from installation.scene.wire import FrameWire, WireError, decode, encode, sequence_name

log = logging.getLogger(__name__)

DEFAULT_PORT = 9100
"""The leader's UDP port (``--lead [PORT]``, ``--leader HOST[:PORT]``)."""
_FRAME = struct.Struct("<4sB8s32sB")
"""A frame packet's head: magic, link version, the leader's session, the manifest hash and name
length of the sequence it switches to next (zeros: none); that name, then the wire form follow."""
_HELLO = struct.Struct("<4sBBB32s")
"""A hello: magic, link version, the follower's tile (column, row), the manifest hash of the next
sequence it has loaded and ready (zeros: none); padded to ``HELLO_BYTES``."""
FRAME_MAGIC, HELLO_MAGIC, VERSION = b"MMwf", b"MMwh", 2
NONE = bytes(32)
SWITCH_WAIT = 3.0
"""Seconds a leader waits for its followers to have its next sequence ready, before it switches
anyway (a follower that cannot load it holds its last frame and says why)."""
HELLO_BYTES = 256
"""A hello is padded to this size, so that a forged one buys a sender little traffic to aim."""
HELLO_SECONDS = 0.5
FORGET_SECONDS = 3.0
"""A follower not heard from for this long gets no more frames."""
MAX_FOLLOWERS = 32
STALE_FRAMES = 600
"""How far behind the newest frame a frame is dropped as late (10 s at 60 fps). One further behind
is taken: the newest was forged (a frame number no leader reaches), and the leader goes on."""
RESOLVE_SECONDS = 10.0
"""How long a follower keeps the leader's looked-up address before it looks the name up again."""
_REASONS_KEPT = 16
_HELLOS_A_FRAME = 256
"""Datagrams the leader reads per frame at most: a flood of hellos costs a bounded time."""


def hello(tile: tuple[int, int], ready: bytes = NONE) -> bytes:
    return _HELLO.pack(HELLO_MAGIC, VERSION, *tile, ready).ljust(HELLO_BYTES, b"\0")


def frame_packet(session: bytes, state: FrameState, upcoming: Stage | None = None) -> bytes:
    """The packet of ``state``, announcing ``upcoming``: the sequence the leader switches to next."""
    name = upcoming.name.encode() if upcoming is not None else b""
    digest = upcoming.manifest_hash if upcoming is not None else NONE
    return _FRAME.pack(FRAME_MAGIC, VERSION, session, digest, len(name)) + name + encode(state)


def _bind(port: int, what: str, fix: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("0.0.0.0", port))
    except OSError as error:
        sock.close()
        reason = "in use by another program" if error.errno == errno.EADDRINUSE else error.strerror
        raise UserError(f"The {what} UDP port {port} is {reason}; {fix}.") from error
    return sock


@dataclass
class _Follower:
    tile: tuple[int, int]
    seen: float
    ready: bytes = NONE


class WallLeader:
    """Sends each frame to the followers that said hello; read and sent on the render thread,
    without waiting: a socket that cannot take a packet loses that packet, counted."""

    def __init__(self, port: int, allow: tuple[Network, ...] = (), clock=time.monotonic) -> None:
        self.socket = _bind(port, "wall leader's", "give --lead another port (the followers' --leader HOST:PORT too)")
        self.socket.setblocking(False)
        self.port = self.socket.getsockname()[1]
        self.allow = allow
        self.session = os.urandom(8)
        self.followers: dict[tuple[str, int], _Follower] = {}
        self.sent = 0
        self.failed = 0
        self.refused = 0
        """Datagrams that were no hello from an allowed follower (or one past ``MAX_FOLLOWERS``)."""
        self._clock = clock
        self.upcoming: Stage | None = None
        """The sequence loaded to be shown next, announced until every follower has it ready."""
        self._upcoming_since = 0.0

    def ready_for(self, stage: Stage) -> bool:
        """Whether the show may switch to ``stage`` now (the pipeline's ``switch_when``): once every
        follower says it has it ready, or after ``SWITCH_WAIT`` seconds; until then it is announced
        in every frame, so the followers load it while the show goes on."""
        now = self._clock()
        if self.upcoming is not stage:
            self.upcoming, self._upcoming_since = stage, now
        waiting = [f for f in self.followers.values() if f.ready != stage.manifest_hash]
        if waiting and now - self._upcoming_since < SWITCH_WAIT:
            return False
        if waiting:
            tiles = ", ".join(f"{f.tile[0]},{f.tile[1]}" for f in waiting)
            log.warning(
                "wall: tiles %s did not have %s ready in %g s; switching without them", tiles, stage.name, SWITCH_WAIT
            )
        self.upcoming = None
        return True

    def send(self, state: FrameState) -> None:
        """Send ``state`` to every follower heard from lately (and hear the hellos first)."""
        now = self._clock()
        self._hear(now)
        packet = frame_packet(self.session, state, self.upcoming)
        for address in list(self.followers):
            if now - self.followers[address].seen > FORGET_SECONDS:
                log.info("wall: follower %s:%d (tile %d,%d) is gone", *address, *self.followers[address].tile)
                del self.followers[address]
                continue
            try:
                self.socket.sendto(packet, address)
                self.sent += 1
            except OSError:  # a full buffer, a route gone: this frame is lost for that follower
                self.failed += 1

    def _hear(self, now: float) -> None:
        for _ in range(_HELLOS_A_FRAME):
            try:
                data, address = self.socket.recvfrom(HELLO_BYTES + 1)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # an ICMP error of an earlier send (a follower gone): nothing to read
                continue
            address = address[:2]
            if not self._welcome(data, address):
                if not self.refused:
                    log.warning(
                        "wall: a datagram from %s:%d is no hello this leader takes (not a follower, outside the "
                        "--osc-allow networks, or past %d followers); such datagrams are counted in /status",
                        *address,
                        MAX_FOLLOWERS,
                    )
                self.refused += 1
                continue
            _, _, column, row, ready = _HELLO.unpack_from(data)
            if address not in self.followers:
                log.info("wall: follower %s:%d (tile %d,%d) joined", *address, column, row)
            self.followers[address] = _Follower((column, row), now, ready)

    def _welcome(self, data: bytes, address: tuple[str, int]) -> bool:
        if len(data) != HELLO_BYTES or data[:5] != HELLO_MAGIC + bytes([VERSION]):
            return False
        if not allowed(address[0], self.allow):
            return False
        return address in self.followers or len(self.followers) < MAX_FOLLOWERS

    def describe(self) -> dict[str, object]:
        return {
            "role": "leader",
            "port": self.port,
            "followers": [
                f"{host}:{port} tile {f.tile[0]},{f.tile[1]}" for (host, port), f in list(self.followers.items())
            ],
            "sent": self.sent,
            "failed": self.failed,
            "refused": self.refused,
        }

    def close(self) -> None:
        self.socket.close()


@dataclass(frozen=True)
class Upcoming:
    """The sequence the leader switches to next: its name and manifest hash."""

    name: str
    manifest_hash: bytes


@dataclass(frozen=True)
class Received:
    """A frame from the leader, when it arrived (``time.monotonic``), and the sequence it
    announces next."""

    wire: FrameWire
    session: bytes
    arrived: float
    upcoming: Upcoming | None = None


@dataclass
class LinkCounts:
    received: int = 0
    stale: int = 0
    """Late or repeated frames, dropped."""
    refused: int = 0
    """Packets from the leader that did not decode."""
    foreign: int = 0
    """Packets from any other sender, ignored."""
    restarts: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class LeaderLink:
    """A follower's end: says hello to the leader and keeps its newest frame, on a thread."""

    def __init__(self, leader: tuple[str, int], tile: tuple[int, int], port: int = 0) -> None:
        self.leader = leader
        self.tile = tile
        self.socket = _bind(port, "wall follower's", "give --wall-port another port or leave it out")
        self.socket.settimeout(0.1)
        self.port: int = self.socket.getsockname()[1]
        self.counts = LinkCounts()
        self.listeners: list[Callable[[Received], object]] = []
        """Told each frame taken, on the link's thread (a recorder, a lag meter)."""
        self._address: tuple[str, int] | None = None
        """The leader's resolved address: the only source taken."""
        self._latest: Received | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._warned_lookup = False
        self.ready = NONE
        """The manifest hash of the next sequence this follower has ready (said in each hello)."""
        self._hello_now = threading.Event()
        self._resolved_at = -RESOLVE_SECONDS
        self._thread = threading.Thread(target=self._run, name="wall-follower", daemon=True)
        self._thread.start()

    @property
    def latest(self) -> Received | None:
        with self._lock:
            return self._latest

    def _run(self) -> None:
        next_hello = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_hello or self._hello_now.is_set():
                self._hello_now.clear()
                next_hello = now + HELLO_SECONDS
                self._say_hello(now)
            try:
                data, source = self.socket.recvfrom(65536)
            except (TimeoutError, InterruptedError):
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue  # an ICMP error for a hello to a leader not yet there
            self._take(data, source[:2], time.monotonic())

    def _say_hello(self, now: float) -> None:
        """A hello to the leader, from the link's thread; its name looked up again every
        ``RESOLVE_SECONDS`` (a leader that moves is found; a slow name server delays this thread's
        next packets by a lookup now and then, never the render thread)."""
        host, port = self.leader
        try:
            if self._address is None or now - self._resolved_at > RESOLVE_SECONDS:
                resolved = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)[0][4]
                self._address, self._resolved_at = (str(resolved[0]), int(resolved[1])), now
            self.socket.sendto(hello(self.tile, self.ready), self._address)
            self._warned_lookup = False
        except OSError as error:
            if not self._warned_lookup:
                log.warning("wall: cannot reach the leader %s:%d (%s); trying again", host, port, error)
                self._warned_lookup = True

    def have_ready(self, digest: bytes) -> None:
        """Say soon (the link's thread's next turn) that the sequence of manifest hash ``digest``
        is loaded here and ready."""
        self.ready = digest
        self._hello_now.set()

    def _take(self, data: bytes, source: tuple[str, int], arrived: float) -> None:
        if source != self._address:
            self.counts.foreign += 1
            return
        try:
            if len(data) < _FRAME.size:
                raise WireError(f"a frame packet takes at least {_FRAME.size} bytes, this one has {len(data)}")
            magic, version, session, digest, length = _FRAME.unpack_from(data)
            if magic != FRAME_MAGIC or version != VERSION:
                raise WireError("not a frame packet of this wall's version")
            upcoming = (
                None if digest == NONE else Upcoming(sequence_name(data[_FRAME.size : _FRAME.size + length]), digest)
            )
            wire = decode(data[_FRAME.size + length :])
        except WireError as error:
            self._refuse(str(error))
            return
        latest = self.latest
        behind = latest.wire.frame - wire.frame if latest is not None and latest.session == session else -1
        if 0 <= behind < STALE_FRAMES:  # late or repeated; far behind is a newest frame that was a lie
            self.counts.stale += 1
            return
        if latest is not None and latest.session != session:
            self.counts.restarts += 1
            log.warning("wall: the leader started again; following its new run")
        self.counts.received += 1
        received = Received(wire, session, arrived, upcoming)
        with self._lock:
            self._latest = received
        for listener in self.listeners:
            listener(received)

    def _refuse(self, reason: str) -> None:
        self.counts.refused += 1
        reasons = self.counts.reasons
        if reason in reasons:
            reasons[reason] += 1
        elif len(reasons) < _REASONS_KEPT:  # each new reason said once; past a few, only counted
            log.warning("wall: a packet from the leader was refused (%s)", reason)
            reasons[reason] = 1

    def close(self) -> None:
        self._stop.set()
        self.socket.close()
        self._thread.join(timeout=1.0)
