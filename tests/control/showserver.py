"""A running show for the network tests: a real frame pipeline stepped on its own thread, with the
real OSCQuery server (and, when asked, the real OSC server) on loopback."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from installation.control.mapping import load_mapping
from installation.control.websupervisor import ShowServer
from installation.scene.clock import FixedClock
from installation.scene.pipeline import FramePipeline
from installation.scene.show import FrameState, Show
from tests.helpers import flat_stage


@dataclass
class RunningShow:
    """The pipeline, its server, and a way to run something on the render thread between frames."""

    pipeline: FramePipeline
    server: ShowServer
    chores: queue.Queue[Callable[[], None]]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def on_render_thread(self, chore: Callable[[], None]) -> None:
        self.chores.put(chore)

    def state(self) -> FrameState:
        latest = self.pipeline.latest
        assert latest is not None
        return latest


def _drive(pipeline: FramePipeline, chores: queue.Queue[Callable[[], None]], stop: threading.Event) -> None:
    """The render thread's part: chores, then a frame, about 200 times a second."""
    while not stop.is_set():
        while not chores.empty():
            chores.get_nowait()()
        pipeline.step()
        stop.wait(0.005)


@contextmanager
def running_show(keyframes: int = 3, **server_options: Any) -> Iterator[RunningShow]:
    pipeline = FramePipeline(Show(flat_stage(keyframes)), FixedClock(60.0))
    pipeline.step()
    server_options.setdefault("advertise", False)
    server = ShowServer(
        lambda: pipeline.latest, pipeline.commands, load_mapping(), port=0, host="127.0.0.1", **server_options
    )
    chores: queue.Queue[Callable[[], None]] = queue.Queue()
    stop = threading.Event()
    driver = threading.Thread(target=_drive, args=(pipeline, chores, stop), daemon=True)
    driver.start()
    try:
        yield RunningShow(pipeline, server, chores)
    finally:
        stop.set()
        driver.join(timeout=5)
        server.close()


def get(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, Any]:
    """Status and parsed JSON (None when there is no JSON) of one real HTTP request."""
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            data = answer.read()
            status = answer.status
    except urllib.error.HTTPError as error:
        return error.code, None
    return status, json.loads(data) if data and answer.headers.get_content_type() == "application/json" else None


async def next_message(socket: aiohttp.ClientWebSocketResponse, seconds: float = 10.0) -> aiohttp.WSMessage:
    return await asyncio.wait_for(socket.receive(), seconds)


async def write_packets(url: str, packets: list[bytes]) -> None:
    """Send OSC packets over one websocket, as a page or a tool would, and close it."""
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        for packet in packets:
            await ws.send_bytes(packet)
