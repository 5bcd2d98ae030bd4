"""The web server's own process: it comes back when it dies or hangs, it ends when the show dies, a
flooding client is cut off without locking the link, a port in use is one sentence, and its log
lines (tracebacks too) reach the show's log."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from multiprocessing import Pipe
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from PIL import Image

from installation.control import websupervisor
from installation.control.mapping import load_mapping
from installation.control.osc import osc_message
from installation.control.webserver import BLOCK_SECONDS, FLOOD_MESSAGES, KEY_TRIES, KEY_WINDOW, KeyGuard, Link, LogUp
from installation.control.websupervisor import KEY_VARIABLE, RESTART_SECONDS, LogLine, ShowServer, control_key
from installation.errors import UserError
from installation.scene.commands import Command, CommandQueue
from tests.control.showserver import RunningShow, get, running_show, write_packets
from tests.helpers import metamorph, stage_of, wait_for

ROOT = Path(__file__).parents[2]
SHOW = """
import sys
from tests.control.showserver import running_show
with running_show() as show:
    print(show.server.port, show.server.process_id, flush=True)
    sys.stdin.read()
"""


def _ended(pid: int) -> bool:
    """Gone, or a zombie nobody reaps (a container's first process may not)."""
    try:
        return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True


@pytest.mark.slow
def test_a_killed_web_process_is_started_again_with_the_show_as_it_is(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with running_show() as show:
        show.pipeline.commands.put(Command("set", ("hue", 45.0)))
        wait_for(lambda: get(show.url + "/hue?VALUE") == (200, {"VALUE": [45.0]}))
        first = show.server.process_id
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: show.server.process_id != first, RESTART_SECONDS + 10)
        assert get(show.url + "/hue?VALUE") == (200, {"VALUE": [45.0]})  # the new process was told at once
        assert "the web server process ended (killed by SIGKILL)" in caplog.text
        assert _ended(first)


def test_the_web_process_ends_with_a_killed_show() -> None:
    show = subprocess.Popen(
        [sys.executable, "-c", SHOW], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert show.stdout is not None
    port, web = map(int, show.stdout.readline().split())
    try:
        assert get(f"http://127.0.0.1:{port}/speed?VALUE") == (200, {"VALUE": [1.0]})
        show.kill()
        show.wait(10)
        wait_for(lambda: _ended(web))
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)
    finally:
        show.kill()
        if not _ended(web):
            os.kill(web, signal.SIGKILL)


def test_a_port_in_use_is_one_sentence() -> None:
    busy = socket.create_server(("127.0.0.1", 0))
    port = busy.getsockname()[1]
    try:
        with pytest.raises(UserError, match=rf"^The HTTP port {port} cannot be opened \(.*\); .* --http-port 0 to"):
            ShowServer(lambda: None, CommandQueue(), load_mapping(), port=port, host="127.0.0.1", advertise=False)
    finally:
        busy.close()


def _bundle(values: range) -> bytes:
    """One OSC bundle of /hue messages, as a hostile tool would pack it (under the 16 KiB cap)."""
    messages = [osc_message("/hue", [float(value)]) for value in values]
    return b"#bundle\0" + bytes(7) + b"\1" + b"".join(len(m).to_bytes(4, "big") + m for m in messages)


async def _flood_and_fader(url: str) -> tuple[list[aiohttp.WSMsgType], bool]:
    """Four sockets sending bundles as fast as they can, and one page moving a fader 30 times a second."""

    async def flood(ws: aiohttp.ClientWebSocketResponse) -> aiohttp.WSMsgType:
        try:
            for round_ in range(10_000):
                await ws.send_bytes(_bundle(range(round_ % 100, round_ % 100 + 500)))
                await asyncio.sleep(0)
        except ConnectionError:
            pass
        return (await ws.receive(timeout=10)).type

    async def fader(ws: aiohttp.ClientWebSocketResponse) -> bool:
        for step in range(45):
            await ws.send_bytes(osc_message("/speed", [1.0 + step / 64]))  # exact in float32
            await asyncio.sleep(1 / 30)
        return not ws.closed

    async with aiohttp.ClientSession() as session:
        floods = [await session.ws_connect(url) for _ in range(4)]
        page = await session.ws_connect(url)
        *ends, page_open = await asyncio.gather(*(flood(ws) for ws in floods), fader(page))
        return ends, page_open


@pytest.mark.slow
def test_a_flooding_websocket_is_cut_off_and_the_page_beside_it_is_not() -> None:
    with running_show() as show:
        ends, page_open = asyncio.run(_flood_and_fader(show.url.replace("http", "ws") + "/"))
        assert all(end in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR) for end in ends)
        assert page_open
        wait_for(lambda: show.server.counts["flooding"] >= 4)
        wait_for(lambda: show.state().settings.speed == 1.6875)  # every fader move arrived, in order
        # each flood is cut within its second, or the next if it began just before a second's end
        # (the allowance is per second): at most two seconds' worth and the bundle past it, each
        assert 0 < show.server.counts["written"] <= 4 * (2 * FLOOD_MESSAGES + 500) + 45
        wait_for(lambda: get(show.url + "/speed?VALUE") == (200, {"VALUE": [1.6875]}))  # a tick later


def _replaced(show: RunningShow, stopped: int, changing: bool) -> bool:
    """Whether another web process serves now; on a changing show, change the hue again first
    (values change every frame: snapshots pile up unread)."""
    if changing:
        show.pipeline.commands.put(Command("set", ("hue", float(time.monotonic_ns() % 180))))
    return show.server.process_id != stopped


@pytest.mark.slow
@pytest.mark.parametrize("changing", [False, True], ids=["paused-show", "changing-show"])
def test_a_stopped_web_process_is_noticed_and_replaced(
    changing: bool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(websupervisor, "HUNG_SECONDS", 1.0)
    caplog.set_level(logging.WARNING)
    with running_show() as show:
        show.pipeline.commands.put(Command("pause", (True,)))
        wait_for(lambda: get(show.url + "/pause?VALUE") == (200, {"VALUE": [1]}))  # nothing changes from here
        stopped = show.server.process_id
        os.kill(stopped, signal.SIGSTOP)
        wait_for(lambda: _replaced(show, stopped, changing), 30)
        assert "the web server process answered nothing for 1 s and was stopped; starting it again in 3 s" in (
            caplog.text
        )
        assert _ended(stopped)
        wait_for(lambda: get(show.url + "/hue?VALUE") == (200, {"VALUE": [show.state().settings.hue]}))


def test_log_lines_cross_the_link_with_their_traceback_and_without_what_cannot_travel() -> None:
    show_end, web_end = Pipe()
    logger = logging.getLogger("tests.webserver")
    handler = LogUp(Link(web_end))
    logger.addHandler(handler)
    try:
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            logger.exception("the page's handler failed for %s", "/speed", extra={"lock": threading.Lock()})
        line = show_end.recv()
    finally:
        logger.removeHandler(handler)
    assert isinstance(line, LogLine)
    record = logging.makeLogRecord(line.record)
    written = logging.Formatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert written.startswith("ERROR tests.webserver: the page's handler failed for /speed\nTraceback")
    assert "ZeroDivisionError: division by zero" in written and not hasattr(record, "lock")


def _keyframe_picture(url: str) -> np.ndarray:
    with urllib.request.urlopen(url + "/control/keyframe.jpg", timeout=10) as answer:
        assert answer.headers["Content-Type"] == "image/jpeg"
        return np.asarray(Image.open(io.BytesIO(answer.read())))


def test_the_page_thumbnail_is_the_keyframe_shown_made_once_per_keyframe(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    real = websupervisor.thumbnail
    monkeypatch.setattr(websupervisor, "thumbnail", lambda frame: made.append(int(frame.mean())) or real(frame))
    with running_show(keyframes=3) as show:  # flat greys 0, 40, 80
        socket_url = show.url.replace("http", "ws") + "/"
        rest_and_jump = [osc_message("/hold", [120.0]), osc_message("/duration", [0.2]), osc_message("/follow", [0.0])]
        asyncio.run(write_packets(socket_url, rest_and_jump))  # it moves when told to only, and at once
        wait_for(lambda: show.state().settings.hold == 120.0 and show.state().settings.follow == 0.0)
        for index in (0, 2, 0, 2):
            asyncio.run(write_packets(socket_url, [osc_message("/goto", [index])]))
            wait_for(lambda index=index: abs(_keyframe_picture(show.url).mean() - 40 * index) < 3)
        assert _keyframe_picture(show.url).shape == (
            websupervisor.THUMBNAIL_WIDTH // 2,
            websupervisor.THUMBNAIL_WIDTH,
            3,
        )
        assert len(made) == len(set(made)) and {0, 80} <= set(made) <= {0, 40, 80}  # shown twice, made once
        light = stage_of([np.full((8, 16, 3), 200, np.uint8), np.full((8, 16, 3), 240, np.uint8)], name="light")
        show.on_render_thread(lambda: show.pipeline.show.switch(light))  # another sequence, its own keyframe 0
        wait_for(lambda: abs(_keyframe_picture(show.url).mean() - 200) < 3)


def test_the_control_key_can_stay_out_of_the_arguments(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("sesame ü\n")
    assert control_key(None, tmp_path / "key", {KEY_VARIABLE: "other"}) == "sesame ü"
    assert control_key(None, None, {KEY_VARIABLE: "from the environment"}) == "from the environment"
    assert control_key("given", None, {KEY_VARIABLE: "from the environment"}) == "given"
    assert control_key(None, None, {}) is None


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        (["--control-key-file", "FIFO"], r"The control key file .*fifo is a FIFO, not a regular file; give "),
        (["--control-key-file", "EMPTY"], r"The control key file .*empty is empty; write the key on its first line\."),
        (["--control-key", "k", "--control-key-file", "EMPTY"], r"--control-key and --control-key-file both give "),
    ],
)
def test_a_key_file_that_cannot_serve_is_one_sentence(tmp_path: Path, arguments: list[str], sentence: str) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "empty").write_text("\n")
    paths = {"FIFO": str(tmp_path / "fifo"), "EMPTY": str(tmp_path / "empty")}
    result = metamorph("play", *(paths.get(argument, argument) for argument in arguments), timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert re.search(sentence, result.stderr)


def test_each_block_of_a_guessing_address_lasts_twice_as_long() -> None:
    now = [0.0]
    guard = KeyGuard(clock=lambda: now[0])
    blocks = []
    for _ in range(3):
        for _ in range(KEY_TRIES):
            guard.wrong("192.0.2.7")
        blocks.append(guard.refused_for("192.0.2.7"))
        now[0] += blocks[-1]
    assert blocks == [BLOCK_SECONDS, 2 * BLOCK_SECONDS, 4 * BLOCK_SECONDS]
    assert guard.refused_for("192.0.2.8") == 0.0


def test_wrong_keys_spread_over_more_than_a_window_are_no_block() -> None:
    now = [0.0]
    guard = KeyGuard(clock=lambda: now[0])
    for _ in range(3 * KEY_TRIES):
        guard.wrong("192.0.2.7")
        now[0] += KEY_WINDOW / (KEY_TRIES - 1)
    assert guard.refused_for("192.0.2.7") == 0.0


def test_the_right_key_forgives_the_earlier_blocks() -> None:
    now = [0.0]
    guard = KeyGuard(clock=lambda: now[0])
    for _ in range(KEY_TRIES):
        guard.wrong("192.0.2.7")
    now[0] += BLOCK_SECONDS
    guard.right("192.0.2.7")
    for _ in range(KEY_TRIES):
        guard.wrong("192.0.2.7")
    assert guard.refused_for("192.0.2.7") == BLOCK_SECONDS  # not twice as long: a typing user, not a guesser
