"""The web server's own process: it comes back when it dies, it ends when the show dies, a port in
use is one sentence, and its log lines reach the show's log."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from installation.control.mapping import load_mapping
from installation.control.webprocess import advertised
from installation.control.webserver import RESTART_SECONDS, ShowServer
from installation.errors import UserError
from installation.scene.commands import Command, CommandQueue
from tests.control.showserver import get, running_show, wait_for

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


def test_zeroconf_advertises_addresses_other_machines_can_reach() -> None:
    assert advertised("127.0.0.1", ["127.0.0.1", "192.168.1.20"]) == ["127.0.0.1"]  # bound to one: that one
    assert advertised("0.0.0.0", ["127.0.0.1", "192.168.1.20", "10.0.0.5"]) == ["192.168.1.20", "10.0.0.5"]
    assert advertised("0.0.0.0", ["127.0.0.1"]) == ["127.0.0.1"]  # no network: loopback is all there is
