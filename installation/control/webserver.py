"""The show on the network: OSCQuery over HTTP and a websocket, the control page, zeroconf.

The server runs on its own thread with its own asyncio loop (aiohttp), so a request, a slow
client or a thousand idle sockets never hold up a frame: like the OSC server, it only reads the
pipeline's last frame state and puts commands in its queue. Values stream to websocket clients
that LISTEN, as binary OSC packets, from a watcher that compares frame states 30 times a second;
the same watcher notices when the address space changes (a sequence with another keyframe count,
sequences added to the folder) and tells every client (PATH_REMOVED, then PATH_ADDED).

Writes come as binary OSC packets over the websocket, translated exactly as OSC over UDP is.
Only the allowed networks are answered; with a control key a websocket writes only when it
brought the key, and in read-only mode nothing writes and the tree says so (ACCESS).
"""

from __future__ import annotations

import asyncio
import hmac
import io
import json
import logging
import socket
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

import ifaddr
import numpy as np
from aiohttp import WSMsgType, web
from PIL import Image
from pythonosc import osc_packet
from zeroconf import ServiceInfo
from zeroconf.asyncio import AsyncZeroconf

from installation.control.mapping import Mapping
from installation.control.osc import Network, allowed, osc_message, translate
from installation.control.oscquery import DEFAULT_HTTP_PORT, Method, address_space, attribute, host_info, node, readable
from installation.errors import UserError
from installation.scene.commands import CommandQueue
from installation.scene.parameters import SPECS
from installation.scene.playlist import sequences_in
from installation.scene.show import FrameState

log = logging.getLogger(__name__)
MAX_SOCKETS = 500
"""Websockets held at once; more are answered 503, so a flood cannot use up the show's files."""
MAX_MESSAGE = 16 * 1024
"""The largest websocket message taken (an OSC packet or a LISTEN); larger closes the socket (1009)."""
OUTBOX = 256
"""Packets waiting for one websocket; a client that lets more pile up is too slow and is closed."""
SEND_SECONDS = 2.0
TICK_SECONDS = 1 / 30
RESCAN_SECONDS = 2.0
THUMBNAIL_WIDTH = 240
PAGE_FILES = {"": "index.html", "control.js": "control.js", "control.css": "control.css"}
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


def sequence_names(folder: Path | None) -> Callable[[], tuple[str, ...]]:
    """A reader of the sequence names in ``folder`` (what ``/sequence`` takes); none when unreadable."""

    def names() -> tuple[str, ...]:
        try:
            return tuple(path.name for path in sequences_in(folder)) if folder else ()
        except OSError:
            return ()

    return names


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


def _jpeg(frame: np.ndarray) -> bytes:
    image = Image.fromarray(frame)
    height = max(1, round(image.height * THUMBNAIL_WIDTH / image.width))
    out = io.BytesIO()
    image.resize((THUMBNAIL_WIDTH, height), Image.Resampling.BILINEAR).save(out, "JPEG", quality=75)
    return out.getvalue()


def _shown(state: FrameState | None) -> tuple[Any, ...]:
    """What the tree's values are made of: a new frame with the same values answers from the cache."""
    if state is None:
        return ()
    return (state.settings, state.conductor.index, state.conductor.paused, state.stage)


class _Client:
    """One websocket: what it listens to, whether it may write, and its bounded outbox."""

    def __init__(self, socket_: web.WebSocketResponse, transport: asyncio.Transport | None, writes: bool) -> None:
        self.socket = socket_
        self.transport = transport
        self.writes = writes
        self.listens: set[str] = set()
        self.outbox: asyncio.Queue[bytes | str] = asyncio.Queue(maxsize=OUTBOX)

    def post(self, data: bytes | str) -> bool:
        """Queue ``data``; False (and the socket closed) when the client has fallen too far behind."""
        try:
            self.outbox.put_nowait(data)
        except asyncio.QueueFull:
            asyncio.get_running_loop().create_task(self.drop())
            return False
        return True

    async def pump(self) -> None:
        """Send the outbox in order; a send that takes longer than SEND_SECONDS drops the client."""
        try:
            while True:
                data = await self.outbox.get()
                send = self.socket.send_bytes(data) if isinstance(data, bytes) else self.socket.send_str(data)
                await asyncio.wait_for(send, SEND_SECONDS)
        except (TimeoutError, ConnectionError, RuntimeError):
            await self.drop()

    async def drop(self) -> None:
        """Close at once: a slow client gets no orderly goodbye that it could stall too."""
        if self.transport is not None:
            self.transport.abort()


class ShowServer:
    """OSCQuery, its websocket and the control page on ``port``, on a thread of their own."""

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
        sequences: Callable[[], tuple[str, ...]] = tuple,
        advertise: bool = True,
    ) -> None:
        self._latest = latest
        self._commands = commands
        self._mapping = mapping
        self._allow = allow
        self._key = key
        self.readonly = readonly
        self._osc_port = osc_port
        self._sequences = sequences
        self._advertise = advertise
        self.counts: Counter[str] = Counter()
        self._files = _page_files()
        self._clients: set[_Client] = set()
        self._shape: tuple[int, tuple[str, ...]] | None = None
        """The keyframe count and sequence names the address space was made for (None: no frame yet)."""
        self._names: tuple[str, ...] = ()
        self._space: dict[str, Method] = address_space(1, (), readonly)
        self._values: dict[str, list[Any]] = {}
        self._cache: dict[str, tuple[int, bytes]] = {}
        """Answers to the last frame state's queries, by path and query: many clients, one JSON encoding."""
        self._cached_for: tuple[Any, ...] = ()
        self._thumbnail: tuple[object, int, bytes] | None = None
        self._zeroconf: AsyncZeroconf | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._start(host, port)

    @property
    def connected(self) -> int:
        """Websockets open now."""
        return len(self._clients)

    # Start and stop ---------------------------------------------------------------------------

    def _start(self, host: str, port: int) -> None:
        started = asyncio.run_coroutine_threadsafe(self._open(host, port), self._loop)
        self._thread = threading.Thread(target=self._loop.run_forever, name="http-server", daemon=True)
        self._thread.start()
        try:
            started.result(timeout=10)
        except OSError as error:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=2)
            raise UserError(
                f"The HTTP port {port} cannot be opened ({error.strerror or error}); another program may be using "
                "it: choose another with --http-port (1..65535), or --http-port 0 to turn the web control off."
            ) from error
        log.info("http: OSCQuery and the control page on %s:%d (/control)", host, self.port)

    async def _open(self, host: str, port: int) -> None:
        app = web.Application(middlewares=[self._guard], client_max_size=MAX_MESSAGE)
        app.router.add_get("/control", self._page)
        app.router.add_get("/control/", self._page)
        app.router.add_get("/control/config.json", self._config)
        app.router.add_get("/control/keyframe.jpg", self._keyframe)
        app.router.add_get("/control/{name}", self._page)
        app.router.add_get("/{path:.*}", self._query)
        self._runner = web.AppRunner(app, access_log=None, keepalive_timeout=10, max_line_size=4096)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port, backlog=1024).start()
        self.port = self._runner.addresses[0][1]
        self._names = await asyncio.get_running_loop().run_in_executor(None, self._sequences)
        state = self._latest()
        if state is not None:
            self._reshape(state.stage.count, self._names)
        self._spawn(self._watch())
        if self._advertise:
            self._spawn(self._announce())

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        """Stop serving: zeroconf says goodbye, sockets close, the thread ends."""
        try:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=5)
        except TimeoutError:
            log.warning("http: the server took too long to close; leaving it to the process exit")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=2)

    async def _close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._zeroconf is not None:
            await asyncio.wait_for(self._zeroconf.async_unregister_all_services(), 2)
            await self._zeroconf.async_close()
        for client in list(self._clients):
            await client.drop()
        if self._runner is not None:
            await self._runner.cleanup()

    # Zeroconf ---------------------------------------------------------------------------------

    async def _announce(self) -> None:
        """Advertise ``_oscjson._tcp`` (this server) and ``_osc._udp`` (the OSC port) on every interface."""
        self._zeroconf = AsyncZeroconf()
        hostname = socket.gethostname()
        addresses = [ip.ip for adapter in ifaddr.get_adapters() for ip in adapter.ips if isinstance(ip.ip, str)]
        services = [("_oscjson._tcp.local.", self.port)]
        if self._osc_port is not None:
            services.append(("_osc._udp.local.", self._osc_port))
        for kind, port in services:
            info = ServiceInfo(
                kind,
                f"metamorph on {hostname}.{kind}",
                port=port,
                parsed_addresses=addresses,
                server=f"{hostname}.local.",
            )
            await (await self._zeroconf.async_register_service(info, allow_name_change=True))
        log.info("zeroconf: advertised %s", ", ".join(kind for kind, _ in services))

    # HTTP -------------------------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        """Only the allowed networks are answered (the same ``--osc-allow`` as OSC)."""
        if not allowed(request.remote, self._allow):
            self.counts["refused"] += 1
            return web.Response(status=403, text="not from an allowed network\n")
        self.counts["requests"] += 1
        return await handler(request)

    async def _query(self, request: web.Request) -> web.StreamResponse:
        """OSCQuery: the node at the path, one attribute of it (``?VALUE``), or ``?HOST_INFO``."""
        if request.path == "/" and request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._socket(request)
        query = request.query_string
        if query == "HOST_INFO":
            return _json(host_info(self.port, self._osc_port))
        state = self._latest()
        shown = _shown(state)
        if shown != self._cached_for:
            self._cache.clear()
            self._cached_for = shown
        if state is not None:
            self._reshape(state.stage.count, self._names)
        key = f"{request.path}?{query}"
        status, body = self._cache.get(key) or self._answer(request.path, query, state)
        if status == 200 and len(self._cache) < len(self._space) * 10:
            self._cache[key] = (status, body)
        if status != 200:
            return web.Response(status=status)
        return web.Response(body=body, content_type="application/json")

    def _answer(self, path: str, query: str, state: FrameState | None) -> tuple[int, bytes]:
        if len(path) > 1:
            path = path.rstrip("/")
        if not query:
            described = node(self._space, path, state)
            return (200, json.dumps(described).encode()) if described is not None else (404, b"")
        status, found = attribute(self._space, path, query, state)
        return status, json.dumps(found).encode()

    async def _page(self, request: web.Request) -> web.Response:
        found = self._files.get(request.match_info.get("name", ""))
        if found is None:
            return web.Response(status=404, text="no such file\n")
        body, kind = found
        return web.Response(body=body, content_type=kind, headers={"Cache-Control": "no-cache"})

    async def _config(self, request: web.Request) -> web.Response:
        """What the page needs beyond the tree: whether writes need a key, and the XY pad's pair."""
        return _json({"key": self._key is not None, "readonly": self.readonly, "xy": xy_pair(self._mapping)})

    async def _keyframe(self, request: web.Request) -> web.Response:
        """The current keyframe, small, as JPEG (made off the loop, once per keyframe)."""
        state = self._latest()
        if state is None:
            return web.Response(status=503, text="no frame yet\n")
        index = state.conductor.index
        if self._thumbnail is None or self._thumbnail[:2] != (state.stage, index):
            frame = state.stage.sequence.frames[index]
            self._thumbnail = (state.stage, index, await asyncio.get_running_loop().run_in_executor(None, _jpeg, frame))
        return web.Response(body=self._thumbnail[2], content_type="image/jpeg", headers={"Cache-Control": "no-store"})

    # Websocket --------------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        """A websocket client: LISTEN/IGNORE as JSON text, OSC packets as binary."""
        if len(self._clients) >= MAX_SOCKETS:
            return web.Response(status=503, text="too many websockets\n")
        given = request.query.get("key")
        keyed = self._key is None or (given is not None and hmac.compare_digest(given.encode(), self._key.encode()))
        if given is not None and not keyed:
            self.counts["bad key"] += 1
            return web.Response(status=403, text="wrong control key\n")
        socket_ = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, heartbeat=20, compress=False, timeout=2)
        await socket_.prepare(request)
        client = _Client(socket_, request.transport, keyed and not self.readonly)
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
            messages = [timed.message for timed in osc_packet.OscPacket(data).messages]
        except Exception:  # anything a packet can do to the parser
            self.counts["malformed"] += 1
            return
        for message in messages:
            commands = translate(self._mapping, message.address, tuple(message.params))
            self.counts["ignored" if not commands else "written"] += 1
            for command in commands:
                self._commands.put(command)

    # Watching the show ------------------------------------------------------------------------

    async def _watch(self) -> None:
        """Stream changed values to their listeners, and tell every client when the space changes."""
        loop = asyncio.get_running_loop()
        next_scan = 0.0
        while True:
            await asyncio.sleep(TICK_SECONDS)
            if loop.time() >= next_scan:
                next_scan = loop.time() + RESCAN_SECONDS
                self._names = await loop.run_in_executor(None, self._sequences)
            state = self._latest()
            if state is not None:
                self._reshape(state.stage.count, self._names)
                self._stream(state)

    def _reshape(self, keyframes: int, names: tuple[str, ...]) -> None:
        if (keyframes, names) == self._shape:
            return
        first = self._shape is None
        self._shape = (keyframes, names)
        old, self._space = self._space, address_space(keyframes, names, self.readonly)
        if first:
            return
        changed = sorted(path for path in old.keys() | self._space.keys() if old.get(path) != self._space.get(path))
        self._cache.clear()
        for path in changed:
            for command, present in (("PATH_REMOVED", old), ("PATH_ADDED", self._space)):
                if path in present:
                    self._broadcast(json.dumps({"COMMAND": command, "DATA": path}))

    def _broadcast(self, text: str) -> None:
        for client in list(self._clients):
            client.post(text)

    def _stream(self, state: FrameState) -> None:
        for path, method in readable(self._space).items():
            assert method.value is not None
            values = method.value(state)
            if self._values.get(path) == values:
                continue
            self._values[path] = values
            listeners = [client for client in self._clients if path in client.listens]
            if listeners:
                packet = osc_message(path, values)
                for client in listeners:
                    client.post(packet)
