"""The web process: OSCQuery over HTTP and a websocket, the control page, zeroconf (aiohttp).

Started by ``websupervisor.ShowServer`` as ``python -m installation.control.webserver LINK SOCKET``
(two inherited file descriptors: the link to the show and the listening socket). It knows the
show only through the link: the settings first, then a ``Snapshot`` whenever the tree's values
change; it sends up commands (translated exactly as OSC over UDP is), its counts and its log
lines, and sends each heartbeat straight back (so the show sees it is alive, paused show or not).
When the link closes (the show ended or died) it withdraws its zeroconf services and ends.

Values stream to websocket clients that LISTEN, as binary OSC packets, as soon as a snapshot
changes them; the address space is remade when the keyframe count or the sequence folder (read
every 2 s) changes, and every client hears PATH_REMOVED, then PATH_ADDED. Only the allowed
networks are answered; with a control key a websocket writes only when it brought the key, and
in read-only mode nothing writes and the tree says so (ACCESS). An address that gives too many
wrong keys is refused (429) for a while, whatever it asks for. A malformed request or a client
gone in the middle of an answer is a counted debug line, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import signal
import socket
import sys
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from aiohttp import WSMsgType, web
from aiohttp.http_exceptions import HttpProcessingError

from installation.control.advertise import Advertisement
from installation.control.mapping import Mapping
from installation.control.osc import SentThisSecond, allowed, osc_message, packet_messages, translate
from installation.control.oscquery import Method, Values, address_space, attribute, host_info, node, readable, readings
from installation.control.websupervisor import (
    Commands,
    Heartbeat,
    LogLine,
    Report,
    Snapshot,
    WebSettings,
    key_digest,
    offer,
    same_key,
)
from installation.scene.commands import Command
from installation.scene.parameters import SPECS
from installation.scene.playlist import sequences_in
from installation.scene.wire import decode

log = logging.getLogger("installation.control.webserver")
MAX_SOCKETS = 500
"""Websockets held at once; more are answered 503, so a flood cannot use up the show's files."""
MAX_MESSAGE = 16 * 1024
"""The largest websocket message taken (an OSC packet or a LISTEN); larger closes the socket (1009)."""
FLOOD_MESSAGES = 1000
"""OSC messages one websocket may send a second (the page sends a few dozen); a client over it is cut off."""
OUTBOX = 256
"""Packets waiting for one websocket; a client that lets more pile up is too slow and is closed."""
SEND_SECONDS = 2.0
BATCH_SECONDS = 1 / 60
"""Commands go to the show in batches, at most one a frame: a flood costs the show one message a frame."""
MAX_BATCH = 256
"""Commands kept for one batch; more are dropped and counted (the show takes a few per frame)."""
REPORT_SECONDS = 0.25
"""How often the counts go to the show, when they changed (a thousand requests a second change them always)."""
RESCAN_SECONDS = 2.0
KEY_TRIES = 5
"""Wrong control keys after which, in KEY_WINDOW seconds, an address is refused (429)."""
KEY_WINDOW = 60.0
BLOCK_SECONDS = 30.0
"""How long an address that guessed too often is refused; doubled at each block, up to BLOCK_LIMIT_SECONDS.
Unthrottled, 7,400 guesses a second found a 4-digit key in a second; now a 4-digit key takes months."""
BLOCK_LIMIT_SECONDS = 3600.0
GUESSERS = 10_000
"""Addresses whose wrong keys are remembered at once: guesses from many addresses cannot fill the memory."""
PAGE_FILES = {"": "index.html", "control.js": "control.js", "control.css": "control.css"}
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


def sequence_names(folder: Path | None) -> tuple[str, ...]:
    """The sequence names in ``folder`` (what ``/sequence`` takes); none when unreadable."""
    try:
        return tuple(path.name for path in sequences_in(folder)) if folder else ()
    except OSError:
        return ()


def _services(settings: WebSettings) -> list[tuple[str, int]]:
    """What zeroconf advertises: this server (OSCQuery), and the OSC port when the show has one."""
    services = [("_oscjson._tcp.local.", settings.port)]
    if settings.osc_port is not None:
        services.append(("_osc._udp.local.", settings.osc_port))
    return services


def xy_pair(mapping: Mapping) -> list[str]:
    """The addresses the controller map's XY pad drives (hue across, saturation up by default)."""
    for control in mapping.controls.values():
        if len(control.parameters) == 2:
            return [SPECS[name].address for name, _, _ in control.parameters]
    return []


def _json(data: object) -> web.Response:
    return web.Response(body=json.dumps(data).encode(), content_type="application/json")


def _page_files() -> dict[str, tuple[bytes, str]]:
    """The control page's static files, read once from the package (no CDN, no build step)."""
    folder = resources.files("installation.control") / "web"
    return {route: ((folder / name).read_bytes(), _TYPES[Path(name).suffix]) for route, name in PAGE_FILES.items()}


class Link:
    """The web process's end of the link to the show; offers from any thread, one at a time."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._lock = threading.Lock()

    def offer(self, message: object) -> bool:
        """Send now if the show can take it (see ``websupervisor.offer``); False otherwise, or when the
        show is gone (the reader notices that and ends the process)."""
        with self._lock:
            try:
                return offer(self.connection, message)
            except OSError:
                return False

    def receive(self, take: Callable[[object], None], ended: asyncio.Event) -> None:
        """What the show sent (the loop's reader of the link): each heartbeat straight back, the
        rest to ``take``; the link shut or closed is the end."""
        try:
            while self.connection.poll():
                message = self.connection.recv()
                if isinstance(message, Heartbeat):
                    self.offer(message)
                else:
                    take(message)
        except (EOFError, OSError):
            ended.set()


class LogUp(logging.Handler):
    """Hands every log record, its traceback written out, to the show, whose handlers write (and
    rate-limit) it; a record the show cannot take now is lost, never waited for."""

    def __init__(self, link: Link) -> None:
        super().__init__()
        self._link = link
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            trace = self._formatter.formatException(record.exc_info) if record.exc_info else record.exc_text
            fields = {name: value for name, value in record.__dict__.items() if name in _RECORD_FIELDS}
            self._link.offer(LogLine(fields | {"msg": record.getMessage(), "args": None, "exc_text": trace}))
        except Exception:
            self.handleError(record)


_RECORD_FIELDS = set(logging.makeLogRecord({}).__dict__) - {"exc_info"}
"""A record's standard fields (extras may not pickle; the exception travels written out)."""


@dataclass
class _Guesser:
    """One address's wrong keys: when (those in the window), how often it was blocked, until when."""

    wrong: deque[float] = field(default_factory=deque)
    blocks: int = 0
    until: float = 0.0


class KeyGuard:
    """Wrong control keys per client address: past KEY_TRIES in KEY_WINDOW seconds the address is
    refused everything for BLOCK_SECONDS, twice as long at each block (one log line a block)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._guessers: OrderedDict[str, _Guesser] = OrderedDict()
        """By address, the one that guessed last at the end (the first to forget when full)."""

    def refused_for(self, address: str) -> float:
        """The seconds ``address`` is still refused (0: it is not)."""
        guesser = self._guessers.get(address)
        return max(0.0, guesser.until - self._clock()) if guesser else 0.0

    def wrong(self, address: str) -> None:
        """One more wrong key from ``address``; one too many starts a block."""
        now = self._clock()
        guesser = self._guessers.pop(address, None) or _Guesser()
        self._guessers[address] = guesser
        while len(self._guessers) > GUESSERS:
            self._guessers.popitem(last=False)
        while guesser.wrong and guesser.wrong[0] <= now - KEY_WINDOW:
            guesser.wrong.popleft()
        guesser.wrong.append(now)
        if len(guesser.wrong) >= KEY_TRIES:
            self._block(address, guesser, now)

    def right(self, address: str) -> None:
        """The key, from ``address``: its mistakes are forgiven."""
        self._guessers.pop(address, None)

    def _block(self, address: str, guesser: _Guesser, now: float) -> None:
        seconds = min(BLOCK_SECONDS * 2**guesser.blocks, BLOCK_LIMIT_SECONDS)
        guesser.blocks += 1
        guesser.until = now + seconds
        guesser.wrong.clear()
        log.warning(
            "http: %d wrong control keys from %s in %.0f s: everything it asks is refused (429) for %.0f s",
            KEY_TRIES,
            address,
            KEY_WINDOW,
            seconds,
        )


class ServerLog(logging.LoggerAdapter):
    """aiohttp's server log. A malformed request, or a client gone while it is answered (a dropped
    ping flood), is the network's ordinary noise: one counted debug line, not a traceback in the
    show's log. Anything else keeps its traceback: it is a bug of ours."""

    def __init__(self, counts: Counter[str]) -> None:
        super().__init__(logging.getLogger("aiohttp.server"), {})
        self._counts = counts

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        error = kwargs.get("exc_info")
        error = sys.exc_info()[1] if error is True else error
        if isinstance(error, HttpProcessingError):
            self._noise("malformed requests", msg, args, error.message)
        elif isinstance(error, ConnectionError):
            self._noise("lost clients", msg, args, str(error))
        else:
            super().log(level, msg, *args, **kwargs)

    def _noise(self, count: str, msg: object, args: tuple[object, ...], reason: str) -> None:
        self._counts[count] += 1
        line = reason.strip().splitlines()[0][:200] if reason.strip() else "no reason given"
        self.logger.debug("http: %s (%s)", str(msg) % args, line)


class _Client:
    """One websocket: what it listens to, whether it may write, and its bounded outbox."""

    def __init__(self, socket_: web.WebSocketResponse, transport: asyncio.Transport | None, writes: bool) -> None:
        self.socket = socket_
        self.transport = transport
        self.writes = writes
        self.listens: set[str] = set()
        self.outbox: asyncio.Queue[bytes | str] = asyncio.Queue(maxsize=OUTBOX)

    def post(self, data: bytes | str) -> None:
        """Queue ``data``; a client that has fallen too far behind is closed instead."""
        try:
            self.outbox.put_nowait(data)
        except asyncio.QueueFull:
            self.drop()

    async def pump(self) -> None:
        """Send the outbox in order; a send that takes longer than SEND_SECONDS drops the client."""
        try:
            while True:
                data = await self.outbox.get()
                send = self.socket.send_bytes(data) if isinstance(data, bytes) else self.socket.send_str(data)
                await asyncio.wait_for(send, SEND_SECONDS)
        except (TimeoutError, ConnectionError, RuntimeError):
            self.drop()

    def drop(self) -> None:
        """Close at once: a slow client gets no orderly goodbye that it could stall too."""
        if self.transport is not None:
            self.transport.abort()


class WebServer:
    """The aiohttp application and its websockets, fed by snapshots from the show."""

    def __init__(self, settings: WebSettings, link: Link) -> None:
        self._settings = settings
        self._link = link
        self.counts: Counter[str] = Counter()
        self._sent = SentThisSecond()
        """OSC messages each websocket sent this second (past FLOOD_MESSAGES it is cut off)."""
        self._reported: tuple[dict[str, int], int] = ({}, 0)
        self._batch: list[Command] = []
        self._files = _page_files()
        self._clients: set[_Client] = set()
        self._shape: tuple[int, tuple[str, ...]] | None = None
        """The keyframe count and sequence names the address space was made for (None: no snapshot yet)."""
        self._names: tuple[str, ...] = ()
        self._space: dict[str, Method] = address_space(1, (), settings.readonly)
        self._values: Values = {}
        self._thumbnail: bytes | None = None
        self._visitors: dict[str, Any] | None = None
        self._streamed: Values = {}
        self._cache: dict[str, tuple[int, bytes]] = {}
        """Answers to the last snapshot's queries, by path and query: many clients, one JSON encoding."""
        self._advertisement = Advertisement(settings.host, _services(settings))
        self._key = key_digest(settings.key) if settings.key is not None else None
        self._guard_keys = KeyGuard()
        self.ended = asyncio.Event()

    # Start and stop ---------------------------------------------------------------------------

    async def serve(self, listener: socket.socket) -> None:
        """Serve on ``listener`` until the link closes."""
        app = web.Application(middlewares=[self._guard], client_max_size=MAX_MESSAGE)
        app.router.add_get("/control", self._page)
        app.router.add_get("/control/", self._page)
        app.router.add_get("/control/config.json", self._config)
        app.router.add_get("/control/keyframe.jpg", self._keyframe)
        app.router.add_get("/control/visitors.json", self._visitor_queue)
        app.router.add_get("/control/{name}", self._page)
        app.router.add_get("/{path:.*}", self._query)
        runner = web.AppRunner(
            app, access_log=None, keepalive_timeout=10, max_line_size=4096, logger=ServerLog(self.counts)
        )
        await runner.setup()
        await web.SockSite(runner, listener).start()
        loop = asyncio.get_running_loop()
        self._names = await loop.run_in_executor(None, sequence_names, self._settings.library)
        loop.add_reader(self._link.connection.fileno(), self._link.receive, self._take, self.ended)
        chores = [asyncio.ensure_future(self._watch())]
        if self._settings.advertise:
            chores.append(asyncio.ensure_future(self._advertisement.follow()))
        try:
            await self.ended.wait()
        finally:
            for chore in chores:
                chore.cancel()
            await asyncio.wait(chores, timeout=1.0)  # an advertisement half made is done with before the goodbye
            loop.remove_reader(self._link.connection.fileno())
            await self._close(runner)

    async def _close(self, runner: web.AppRunner) -> None:
        """The port first (a show started again at once finds it free), then zeroconf's goodbye."""
        for client in list(self._clients):
            client.drop()
        await runner.cleanup()
        await self._advertisement.withdraw()

    # The link ---------------------------------------------------------------------------------

    def _take(self, snapshot: object) -> None:
        """A snapshot from the show (the only other thing it sends): its values streamed at once."""
        if not isinstance(snapshot, Snapshot):
            return
        frame = decode(snapshot.frame)
        self._values = readings(frame)
        if snapshot.thumbnail is not None:
            self._thumbnail = snapshot.thumbnail
        self._visitors = snapshot.visitors
        self._cache.clear()
        self._reshape(frame.count, self._names)
        self._stream()

    async def _watch(self) -> None:
        """Report the counts when they changed; read the sequence folder now and then."""
        loop = asyncio.get_running_loop()
        next_scan = loop.time() + RESCAN_SECONDS
        while True:
            await asyncio.sleep(REPORT_SECONDS)
            if loop.time() >= next_scan:
                next_scan = loop.time() + RESCAN_SECONDS
                self._names = await loop.run_in_executor(None, sequence_names, self._settings.library)
                if self._shape is not None:
                    self._reshape(self._shape[0], self._names)
            report = (dict(self.counts), len(self._clients))
            if report != self._reported and self._link.offer(Report(*report)):
                self._reported = report

    def _command(self, address: str, arguments: tuple[Any, ...]) -> None:
        commands = translate(self._settings.mapping, address, arguments)
        self.counts["ignored" if not commands else "written"] += 1
        if commands and not self._batch:
            asyncio.get_running_loop().call_later(BATCH_SECONDS, self._send_batch)
        for command in commands:
            if len(self._batch) < MAX_BATCH:
                self._batch.append(command)
            else:
                self.counts["dropped"] += 1

    def _send_batch(self) -> None:
        """The batch to the show; if it cannot take it now, again a frame later (the batch stays bounded)."""
        if self._link.offer(Commands(tuple(self._batch))):
            self._batch.clear()
        else:
            asyncio.get_running_loop().call_later(BATCH_SECONDS, self._send_batch)

    # HTTP -------------------------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        """Only the allowed networks are answered (the same ``--osc-allow`` as OSC), and not an
        address that guessed the key too often, whatever it asks for now."""
        if not allowed(request.remote, self._settings.allow):
            self.counts["refused"] += 1
            return web.Response(status=403, text="not from an allowed network\n")
        wait = self._guard_keys.refused_for(request.remote or "")
        if wait:
            self.counts["throttled"] += 1
            retry = {"Retry-After": str(math.ceil(wait))}
            return web.Response(status=429, text="too many wrong control keys; wait\n", headers=retry)
        self.counts["requests"] += 1
        return await handler(request)

    async def _query(self, request: web.Request) -> web.StreamResponse:
        """OSCQuery: the node at the path, one attribute of it (``?VALUE``), or ``?HOST_INFO``."""
        if request.path == "/" and request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._socket(request)
        query = request.query_string
        if query == "HOST_INFO":
            return _json(host_info(self._settings.port, self._settings.osc_port))
        key = f"{request.path}?{query}"
        status, body = self._cache.get(key) or self._answer(request.path, query)
        if status == 200 and len(self._cache) < len(self._space) * 10:
            self._cache[key] = (status, body)
        if status != 200:
            return web.Response(status=status)
        return web.Response(body=body, content_type="application/json")

    def _answer(self, path: str, query: str) -> tuple[int, bytes]:
        if len(path) > 1:
            path = path.rstrip("/")
        if not query:
            described = node(self._space, path, self._values)
            return (200, json.dumps(described).encode()) if described is not None else (404, b"")
        status, found = attribute(self._space, path, query, self._values)
        return status, json.dumps(found).encode()

    async def _page(self, request: web.Request) -> web.Response:
        found = self._files.get(request.match_info.get("name", ""))
        if found is None:
            return web.Response(status=404, text="no such file\n")
        body, kind = found
        return web.Response(body=body, content_type=kind, headers={"Cache-Control": "no-cache"})

    async def _config(self, request: web.Request) -> web.Response:
        """What the page needs beyond the tree: whether writes need a key, and the XY pad's pair."""
        settings = self._settings
        return _json(
            {
                "key": settings.key is not None,
                "readonly": settings.readonly,
                "xy": xy_pair(settings.mapping),
                "visitors": settings.visitors,
            }
        )

    async def _keyframe(self, request: web.Request) -> web.Response:
        """The current keyframe, small, as JPEG (made by the show once per keyframe)."""
        if self._thumbnail is None:
            return web.Response(status=503, text="no frame yet\n")
        return web.Response(body=self._thumbnail, content_type="image/jpeg", headers={"Cache-Control": "no-store"})

    async def _visitor_queue(self, request: web.Request) -> web.Response:
        """The visitors' wishes as the operator sees them (prompts included: this port is the
        operator's, never the visitors')."""
        if self._visitors is None:
            return web.Response(status=404, text="this show takes no visitors (play --visitors)\n")
        return _json(self._visitors)

    # Websocket --------------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        """A websocket client: LISTEN/IGNORE as JSON text, OSC packets as binary."""
        if len(self._clients) >= MAX_SOCKETS:
            return web.Response(status=503, text="too many websockets\n")
        given = request.query.get("key")
        keyed = self._key is None or (given is not None and same_key(given, self._key))
        if given is not None and not keyed:
            self.counts["bad key"] += 1
            self._guard_keys.wrong(request.remote or "")
            return web.Response(status=403, text="wrong control key\n")
        if given is not None:
            self._guard_keys.right(request.remote or "")
        socket_ = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, heartbeat=20, compress=False, timeout=2)
        await socket_.prepare(request)
        client = _Client(socket_, request.transport, keyed and not self._settings.readonly)
        self._clients.add(client)
        pump = asyncio.ensure_future(client.pump())
        try:
            async for message in socket_:
                if message.type == WSMsgType.TEXT:
                    self._listen(client, message.data)
                elif message.type == WSMsgType.BINARY:
                    self._write(client, message.data)
        finally:
            self._clients.discard(client)
            pump.cancel()
        return socket_

    def _listen(self, client: _Client, text: str) -> None:
        """``{"COMMAND": "LISTEN"|"IGNORE", "DATA": "/path"}``; anything else is counted and ignored."""
        try:
            message = json.loads(text)
        except (ValueError, RecursionError):
            message = None
        command = message.get("COMMAND") if isinstance(message, dict) else None
        path = message.get("DATA") if isinstance(message, dict) else None
        if not isinstance(path, str):
            self.counts["ignored"] += 1
        elif command == "LISTEN" and path in readable(self._space):
            client.listens.add(path)
        elif command == "IGNORE":
            client.listens.discard(path)
        else:
            self.counts["ignored"] += 1

    def _write(self, client: _Client, data: bytes) -> None:
        """An OSC packet from the page or a tool: the same commands as over UDP, if this client may write."""
        if not client.writes:
            self.counts["refused"] += 1
            return
        try:
            messages = packet_messages(data)
        except Exception:  # anything a packet can do to the parser
            self.counts["malformed"] += 1
            return
        if self._sent.add(client, len(messages)) > FLOOD_MESSAGES:
            self.counts["flooding"] += 1
            client.drop()
            return
        for message in messages:
            self._command(message.address, tuple(message.params))

    # Streaming --------------------------------------------------------------------------------

    def _reshape(self, keyframes: int, names: tuple[str, ...]) -> None:
        if (keyframes, names) == self._shape:
            return
        first = self._shape is None
        self._shape = (keyframes, names)
        old, self._space = self._space, address_space(keyframes, names, self._settings.readonly)
        self._cache.clear()
        if first:
            return
        changed = sorted(path for path in old.keys() | self._space.keys() if old.get(path) != self._space.get(path))
        events = [
            json.dumps({"COMMAND": command, "DATA": path})
            for path in changed
            for command, present in (("PATH_REMOVED", old), ("PATH_ADDED", self._space))
            if path in present
        ]
        for event in events:
            for client in list(self._clients):
                client.post(event)

    def _stream(self) -> None:
        """Send each changed value to the clients that listen to it."""
        for path, values in self._values.items():
            if self._streamed.get(path) == values:
                continue
            self._streamed[path] = values
            listeners = [client for client in self._clients if path in client.listens]
            if listeners:
                packet = osc_message(path, values)
                for client in listeners:
                    client.post(packet)


class Served(Protocol):
    """A server a linked process runs: its ``ended`` is set when the link closes."""

    async def serve(self, listener: socket.socket) -> None: ...


def run_linked(
    link_fd: int, listener_fd: int, server: Callable[[Any, Link], Served], what: str, logger: logging.Logger
) -> int:
    """A server process's life: the settings the show sends first, its log lines up the link, then
    ``server`` until the link closes. Ctrl-C, hang-ups and terminations sent to the whole process
    group are the show's to handle: it closes the link when it ends, and this ends with it."""
    for stop in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
    link = Link(Connection(link_fd))
    settings = link.connection.recv()
    root = logging.getLogger()
    root.setLevel(settings.log_level)
    root.addHandler(LogUp(link))
    try:
        asyncio.run(server(settings, link).serve(socket.socket(fileno=listener_fd)))
    except Exception:
        logger.exception("%s failed", what)
        return 1
    return 0


def main(link_fd: int, listener_fd: int) -> int:
    """Serve OSCQuery and the control page until the show closes the link."""
    return run_linked(link_fd, listener_fd, WebServer, "http: the web server", log)


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
