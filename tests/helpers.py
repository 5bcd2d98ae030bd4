"""Small builders of test inputs that several test modules need."""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.keyframes.sequence import Frame, KeyframeSequence, Manifest
from installation.options import PlayOptions, ShowOptions
from installation.scene.conductor import Order
from installation.scene.stage import Stage, prepare_stage


def huge_png_bytes(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height``: enough to test a size guard, 100 bytes long."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def huge_png(path: Path, width: int, height: int) -> Path:
    """``huge_png_bytes`` in a file."""
    path.write_bytes(huge_png_bytes(width, height))
    return path


def sequence_of(frames: list[np.ndarray], name: str = "test") -> KeyframeSequence:
    """An in-memory keyframe sequence of ``frames`` (8-bit H x W x 3, all one size)."""
    height, width = frames[0].shape[:2]
    manifest = Manifest(
        backend="procedural",
        model="test",
        prompt="test",
        negative_prompt="",
        seed=0,
        strength=1.0,
        scheduler="test",
        guidance=None,
        steps=len(frames),
        steps_executed=len(frames),
        capture_mode="x0",
        width=width,
        height=height,
        frames=tuple(Frame(f"{i:03d}.png", "step", i, 0) for i in range(len(frames))),
        source=None,
        created="",
        package_version="",
    )
    return KeyframeSequence(Path(name), manifest, list(frames))


def stage_of(frames: list[np.ndarray], columns: int = 4, name: str = "test") -> Stage:
    """An in-memory stage of ``frames`` on a grid of ``columns``."""
    return prepare_stage(sequence_of(frames, name), columns)


def flat_stage(count: int = 3, columns: int = 4, name: str = "test") -> Stage:
    """``count`` flat grey 16x8 keyframes, each brighter than the last."""
    return stage_of([np.full((8, 16, 3), 40 * i, np.uint8) for i in range(count)], columns, name)


def metamorph(
    *argv: str, env: dict[str, str | None] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the real command in a new process; ``env`` changes the environment (None removes)."""
    environment = os.environ.copy()
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run(
        [sys.executable, "-m", "installation", *argv], capture_output=True, text=True, env=environment, timeout=timeout
    )


def run_without_torch(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the command in a fresh interpreter and fail it if torch was imported on the way."""
    code = (
        "import sys; from installation.cli import main; "
        f"code = main({argv!r}); "
        "assert code == 0 and 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


QUIET_PLAY = ["--audio", "none", "--osc-port", "0", "--http-port", "0", "--state", "none"]
"""``metamorph play`` in a subprocess with no sound, OSC, web server or saved state."""


def quiet_options(sequence: Path, frames: int, **extra) -> PlayOptions:
    """A short offscreen run with no sound, OSC, web server, state or watchdog."""
    return PlayOptions(
        show=ShowOptions(sequence, order=Order.FORWARD),
        window=(160, 96),
        vsync=False,
        frames=frames,
        fixed_step=60.0,
        audio=extra.pop("audio", "none"),
        osc_port=extra.pop("osc_port", None),
        http_port=extra.pop("http_port", None),
        **extra,
    )


def wait_for(condition: Callable[[], object], seconds: float = 10.0, what: str = "the condition") -> object:
    """Poll ``condition`` until it is true and return its value; fail naming ``what`` after
    ``seconds``. The one way the tests wait for what they cannot be told of (a thread, a process,
    a datagram): never a fixed sleep before an assertion."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds:g} s")
        time.sleep(0.01)


def ask(port: int, address: str, *args: int) -> dict | None:
    """Send ``address`` from a socket of our own; the /status answer's JSON when one comes."""
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        sock.sendto(builder.build().dgram, ("127.0.0.1", port))
        if address != "/status":
            return None
        try:
            message = OscMessage(sock.recv(65536))
        except TimeoutError:
            return None
    return json.loads(message.params[0]) if message.address == "/status" else None


def free_port(kind: str = "udp") -> int:
    """A loopback port free now for ``kind`` ("udp" or "tcp"), for a process that binds it itself."""
    return free_ports(kind)[0]


def free_ports(*kinds: str) -> list[int]:
    """A free loopback port for each of ``kinds``, all bound at once so that no two are the same, and
    below the kernel's ephemeral range, so that no connection made meanwhile (by this test or any
    process) takes one before the show binds it."""
    lowest = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    candidates = random.Random().sample(range(10_000, lowest), 200)
    with contextlib.ExitStack() as probes:
        found: list[int] = []
        for kind in kinds:
            while True:
                port = candidates.pop()
                probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
                probes.enter_context(probe)
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
                found.append(port)
                break
        return found
