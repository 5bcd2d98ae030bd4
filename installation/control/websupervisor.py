"""The show on the network: OSCQuery over HTTP and a websocket, the control page, zeroconf.

The server runs in a process of its own (``installation.control.webserver``). In the show's
process it cost frames: a Python server answering a thousand requests a second holds the
interpreter lock in slices of up to 5 ms, and the render thread waits for it after every OpenGL
call (``benchmarks/network.py`` measured the live loop's frame at 1.42 times its time alone).
Here the show keeps only two things: the listening socket, bound at start so that a port in use
is an error at once, and one thread, the link. Thirty times a second the link sends the web
process what the tree's values are made of (a ``Snapshot``, only when it changed, with a small
JPEG of the keyframe when that changed); it hands the commands the web process sends up to the
command queue, applied between frames like every other command, and its log lines to the
show's log. Neither end ever waits to send (``offer``): what the other cannot take now is sent
later (the latest snapshot) or dropped and counted (commands in a flood). Every second,
whatever changed, the link sends a ``Heartbeat`` that the web process sends straight back: one
that answers none for HUNG_SECONDS (stopped, or its loop stuck) is hung, paused show or not. A
web process that dies, hangs or garbles the link is started again on the same socket; a show
that dies closes the link, and the web process ends with it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field
from multiprocessing import Pipe
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from installation.backoff import Backoff
from installation.control.mapping import Mapping
from installation.control.osc import Network
from installation.control.oscquery import DEFAULT_HTTP_PORT
from installation.errors import UserError
from installation.files import read_input
from installation.scene.commands import Command, CommandQueue
from installation.scene.show import FrameState
from installation.scene.stage import Stage
from installation.scene.wire import encode

log = logging.getLogger(__name__)
TICK_SECONDS = 1 / 30
"""How often the link looks at the last frame state (values stream at most this often)."""
RESTART_SECONDS = 3.0
"""Pause before a web process that ended is started again; it doubles while it keeps ending soon."""
RESTART_LIMIT_SECONDS = 60.0
STEADY_SECONDS = 60.0
"""A web process that ran this long was fine: the next restart waits RESTART_SECONDS again."""
HUNG_SECONDS = 10.0
"""A web process that answers no heartbeat this long is stopped and started again."""
HEARTBEATS = 10
"""Heartbeats sent in HUNG_SECONDS: a web process is hung only after missing ten in a row."""
CLOSE_SECONDS = 3.0
"""How long the web process may take to say goodbye (zeroconf, sockets) before it is killed."""
THUMBNAIL_WIDTH = 240
KEY_VARIABLE = "METAMORPH_CONTROL_KEY"
"""Where the control key may come from instead of the command line, which ``ps`` shows anyone."""
KEY_FILE_LIMIT = 64 * 1024


@dataclass(frozen=True)
class WebSettings:
    """What the web process is told once, when it starts (the key travels here, never in its arguments)."""

    host: str
    port: int
    mapping: Mapping
    allow: tuple[Network, ...] = ()
    key: str | None = None
    readonly: bool = False
    osc_port: int | None = None
    library: Path | None = None
    advertise: bool = True
    log_level: int = logging.INFO
    visitors: bool = False
    """Whether the show takes visitors' wishes (the control page then shows their queue)."""


@dataclass(frozen=True)
class Snapshot:
    """The show as the tree shows it: the frame's wire form (``scene/wire.py``, the one
    description of a frame), and the keyframe's thumbnail when it changed since the last snapshot
    (None: keep the one you have)."""

    frame: bytes
    thumbnail: bytes | None = None
    visitors: dict[str, Any] | None = None
    """The visitors' queue as the operator sees it (``visitors/desk.py``), with ``--visitors``."""


@dataclass(frozen=True)
class Heartbeat:
    """Sent by the show every HUNG_SECONDS / HEARTBEATS and sent straight back by the web process.
    Snapshots go only on change, so without it a stopped web process under a paused show would
    never be noticed (and under a playing one only once the link's buffer filled)."""


@dataclass(frozen=True)
class Commands:
    """The commands the web process heard since its last batch, in arrival order."""

    commands: tuple[Command, ...]


@dataclass(frozen=True)
class Report:
    """The web process's counts (requests, refused, ignored, malformed, written) and open websockets."""

    counts: dict[str, int]
    connected: int


@dataclass(frozen=True)
class LogLine:
    """A log record of the web process, for the show's own log handlers (file, stderr, rate limit)."""

    record: dict[str, Any] = field(repr=False)


def offer(link: Connection, message: object) -> bool:
    """Send ``message`` if the link takes it now; False if it would have to wait.

    Neither end ever waits on the other, so no flood and no stopped process can lock them both
    in a send: a Unix socket is writable while three quarters of its buffer (about 200 KB) are
    free, more than any message here takes.
    """
    if not select.select([], [link], [], 0)[1]:
        return False
    link.send(message)
    return True


def thumbnail(frame: np.ndarray) -> bytes:
    """A keyframe, small, as JPEG: what the control page shows of the show."""
    image = Image.fromarray(frame)
    height = max(1, round(image.height * THUMBNAIL_WIDTH / image.width))
    out = io.BytesIO()
    image.resize((THUMBNAIL_WIDTH, height), Image.Resampling.BILINEAR, reducing_gap=2.0).save(out, "JPEG", quality=75)
    return out.getvalue()


def listen(
    host: str, port: int, option: str = "--http-port", off: str = ", or --http-port 0 to turn the web control off"
) -> socket.socket:
    """The server's listening socket; a port that cannot be had is one sentence naming the fix
    (another port with ``option``, or ``off``)."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return socket.create_server((host, port), family=family, backlog=1024, dualstack_ipv6=host == "::")
    except OSError as error:
        raise UserError(
            f"The HTTP port {port} cannot be opened ({os.strerror(error.errno) if error.errno else error}); another "
            f"program may be using it: choose another with {option} (1..65535){off}."
        ) from error


class _ServerProcess:
    """One run of ``python -m MODULE LINK SOCKET`` and the show's end of its link."""

    def __init__(self, module: str, listener: socket.socket, settings: object) -> None:
        self.link, far_end = Pipe()
        fds = (far_end.fileno(), listener.fileno())
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *map(str, fds)],
            pass_fds=fds,
            stdin=subprocess.DEVNULL,
        )
        far_end.close()
        self.started = self.answered = time.monotonic()
        """When it started, and when it last sent a heartbeat back (it has HUNG_SECONDS to start)."""
        self.link.send(settings)  # the first message, into an empty buffer

    def shut(self) -> None:
        """Shut the link: the web process reads its end (and says goodbye), a thread waiting on it wakes."""
        with contextlib.suppress(OSError), socket.socket(fileno=os.dup(self.link.fileno())) as end:
            end.shutdown(socket.SHUT_RDWR)

    def end(self) -> str:
        """Wait for the process to end (killed after CLOSE_SECONDS), close the link; how it ended."""
        try:
            self.process.wait(CLOSE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.link.close()
        code = self.process.returncode
        if code >= 0:
            return f"exit status {code}"
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"


class ServerHung(Exception):
    """The server process sent no heartbeat back for HUNG_SECONDS."""


class ServedProcess:
    """A server in a process of its own, on a listening socket the show holds, linked by a pipe.

    The link thread takes what the process says (``_told``), tells it what changed every tick
    (``_publish``) and sends heartbeats; a process that ends, hangs or garbles the link is started
    again on the same socket, after a pause that grows while it keeps failing.
    """

    module = ""
    """The module run as ``python -m MODULE LINK SOCKET``."""
    label = "the server process"
    """What the log calls the process, after its surface's prefix ("http: ")."""
    thread = "server-link"
    """The link thread's name (``benchmarks/`` find the web server's by it)."""

    def __init__(self, listener: socket.socket, settings: object) -> None:
        self._listener = listener
        self._settings = settings
        self._restarts = Backoff(RESTART_SECONDS, RESTART_LIMIT_SECONDS)
        self._closing = threading.Event()
        self._web = _ServerProcess(self.module, self._listener, self._settings)
        self._thread = threading.Thread(target=self._run, name=self.thread, daemon=True)
        self._thread.start()

    @property
    def process_id(self) -> int:
        """The process's id: what a technician would ``kill`` if its page misbehaved (it comes back)."""
        return self._web.process.pid

    def close(self) -> None:
        """Stop serving: the link shuts, the process says goodbye and ends."""
        self._closing.set()
        self._web.shut()
        self._thread.join(timeout=2)
        self._web.end()
        self._listener.close()

    def _told(self, message: object) -> None:
        """A message from the process other than a heartbeat or a log line."""

    def _publish(self, link: Connection) -> None:
        """Tell the process what changed since the last tick."""

    def _restarted(self) -> None:
        """A new process runs: it knows nothing yet."""

    # The link ---------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._closing.is_set():
            try:
                self._serve_link()
            except Exception as error:  # EOF: it ended; anything else: this link is not to be trusted
                if not self._closing.is_set():
                    self._restart(error)

    def _serve_link(self) -> None:
        """Take what the process says; every tick, tell it what changed."""
        link = self._web.link
        next_tick = next_beat = time.monotonic()
        while not self._closing.is_set():
            if wait([link], timeout=max(0.0, next_tick - time.monotonic())):
                self._take(link.recv())
            now = time.monotonic()
            if now >= next_tick:
                next_tick = now + TICK_SECONDS
                self._publish(link)
            if now >= next_beat:
                next_beat = now + HUNG_SECONDS / HEARTBEATS
                self._beat(link, now)

    def _beat(self, link: Connection, now: float) -> None:
        """Send a heartbeat (if the link takes it: a full link is what a hung process makes);
        a process that sent none back for HUNG_SECONDS is hung."""
        if now - self._web.answered > HUNG_SECONDS:
            raise ServerHung(f"answered nothing for {HUNG_SECONDS:g} s")
        offer(link, Heartbeat())

    def _take(self, message: object) -> None:
        if isinstance(message, Heartbeat):
            self._web.answered = time.monotonic()
        elif isinstance(message, LogLine):
            record = logging.makeLogRecord(message.record)
            logging.getLogger(record.name).handle(record)
        else:
            self._told(message)

    def _restart(self, error: Exception) -> None:
        """The process ended, hung or garbled the link: say how, and start another on the same socket."""
        self._web.shut()
        ending = self._web.end()
        if isinstance(error, ServerHung):
            why = f"{error} and was stopped"
        elif isinstance(error, (EOFError, OSError)):
            why = f"ended ({ending})"
        else:
            why = f"garbled its link ({error!r}) and was stopped"
        if time.monotonic() - self._web.started > STEADY_SECONDS:
            self._restarts.succeeded()
        pause = self._restarts.failed()
        log.warning("%s %s; starting it again in %.0f s", self.label, why, pause)
        if self._closing.wait(pause):
            return
        self._restarted()
        try:
            self._web = _ServerProcess(self.module, self._listener, self._settings)
        except OSError as failed:
            log.warning("%s cannot be started (%s)", self.label, failed)


class ShowServer(ServedProcess):
    """OSCQuery, its websocket and the control page on ``port``, served by a process of their own."""

    module = "installation.control.webserver"
    label = "http: the web server process"
    thread = "web-link"

    def __init__(
        self,
        latest: Callable[[], FrameState | None],
        commands: CommandQueue,
        mapping: Mapping,
        port: int = DEFAULT_HTTP_PORT,
        host: str = "0.0.0.0",
        allow: tuple[Network, ...] = (),
        key: str | None = None,
        readonly: bool = False,
        osc_port: int | None = None,
        library: Path | None = None,
        advertise: bool = True,
        visitors: Callable[[], dict[str, Any] | None] | None = None,
    ) -> None:
        self._latest = latest
        self._commands = commands
        self._visitors = visitors or (lambda: None)
        listener = listen(host, port)
        self.port: int = listener.getsockname()[1]
        level = logging.getLogger().getEffectiveLevel()
        settings = WebSettings(
            host, self.port, mapping, allow, key, readonly, osc_port, library, advertise, level, visitors is not None
        )
        self.counts: Counter[str] = Counter()
        self.connected = 0
        """Websockets open now (as the web process last reported)."""
        self._shown: tuple[Any, ...] = ()
        self._pictured: tuple[Any, ...] = ()
        """The keyframe whose thumbnail the web process has."""
        self._pictures: tuple[Stage | None, dict[int, bytes]] = (None, {})
        """The thumbnails made of the stage's keyframes: each made once, however often the show loops
        its keyframes or a send waits."""
        super().__init__(listener, settings)
        log.info("http: OSCQuery and the control page on %s:%d (/control)", host, self.port)

    def _told(self, message: object) -> None:
        if isinstance(message, Commands):
            for command in message.commands:
                self._commands.put(command)
        elif isinstance(message, Report):
            self.counts = Counter(message.counts)
            self.connected = message.connected

    def _publish(self, link: Connection) -> None:
        """Send the tree's values when they changed (if the link cannot take them now, a tick later)."""
        state = self._latest()
        if state is None:
            return
        beat = (round(state.beat.tempo, 1), state.beat.beat_in_bar) if state.beat is not None else None
        visitors = self._visitors()
        shown = (state.settings, state.conductor.index, state.conductor.paused, state.stage, beat, visitors)
        if shown == self._shown:
            return
        pictured = (state.stage, state.conductor.index)
        picture = None if pictured == self._pictured else self._picture(state.stage, state.conductor.index)
        if offer(link, Snapshot(encode(state), picture, visitors)):
            self._shown, self._pictured = shown, pictured

    def _picture(self, stage: Stage, index: int) -> bytes:
        if self._pictures[0] is not stage:
            self._pictures = (stage, {})
        made = self._pictures[1]
        if index not in made:
            made[index] = thumbnail(stage.sequence.frames[index])
        return made[index]

    def _restarted(self) -> None:
        self._shown = self._pictured = ()


def control_key(given: str | None, file: Path | None, environment: AnyMapping[str, str] = os.environ) -> str | None:
    """The control key: ``--control-key``, else the first line of ``--control-key-file``, else
    METAMORPH_CONTROL_KEY (the last two keep it out of ``ps``); None when none is given."""
    if given is not None and file is not None:
        raise UserError("--control-key and --control-key-file both give the key: keep one (the file stays out of ps).")
    if file is not None:
        data = read_input(file, "control key file", "--control-key-file", KEY_FILE_LIMIT)
        key = data.decode("utf-8", "replace").splitlines()[0] if data.strip() else ""
        if not key:
            raise UserError(f"The control key file {file} is empty; write the key on its first line.")
        return key
    return given or environment.get(KEY_VARIABLE) or None


def key_digest(key: str) -> bytes:
    """What keys are compared by: digests of one length, so ``hmac.compare_digest`` takes the same
    time whatever a guess shares with the key, its length included."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def same_key(given: str, digest: bytes) -> bool:
    """Whether ``given`` is the key whose ``key_digest`` is ``digest``, in constant time."""
    return hmac.compare_digest(key_digest(given), digest)
