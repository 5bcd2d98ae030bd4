"""A real JACK server with the dummy driver: a sound device that tests can take away and bring back.

Debian's jackd2 ships the server and the small clients used here (``jack_metro`` plays clicks,
``jack_lsp`` and ``jack_connect`` wire ports). PortAudio sees the server as the input device
"system"; its own input port is then fed from the metronome instead of the silent dummy capture.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import wait_for

RATE = 48000
SLOTS = 4
"""Server names are reused from a few slots, each held under a file lock: JACK's registry of
servers has 8 places and only frees one when a server of the same name starts again, so unique
names from runs that crashed would fill it up for every JACK user of the machine."""


class JackServer:
    """One named JACK server (the dummy driver at 48 kHz) and the clients a test started on it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._server: subprocess.Popen | None = None
        self._clients: list[subprocess.Popen] = []

    def start(self) -> None:
        self._server = self._spawn(
            ["jackd", "--no-realtime", "-n", self.name, "-d", "dummy", "-r", str(RATE), "-p", "256"]
        )
        wait_for(lambda: self._tool("jack_wait", "-c").returncode == 0, 10, f"JACK server {self.name} to start")

    def kill(self) -> None:
        """Take the server away as a crash or an unplugged card would: SIGKILL, no goodbye."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        """End every client and the server cleanly (a killed one is started again so that it
        removes its shared memory on the way out)."""
        for client in self._clients:
            client.terminate()
            client.wait(timeout=10)
        self._clients.clear()
        if self._server is None:
            self.start()
        self.ports()  # jackd drops a killed client at the next request; without one, its exit waits 6 s
        self._end(signal.SIGTERM)

    def ports(self) -> list[str]:
        return self._tool("jack_lsp").stdout.split()

    def play_clicks(self, into: str, bpm: int = 300) -> None:
        """Start a metronome (880 Hz clicks, amplitude 0.5, 60 ms) and connect it to port ``into``."""
        client = f"metro{len(self._clients)}"
        self._clients.append(
            self._spawn(["jack_metro", "-n", client, "-b", str(bpm), "-f", "880", "-A", "0.5", "-D", "60"])
        )
        source = wait_for(
            lambda: next((p for p in self.ports() if p.startswith(f"{client}:")), None), 10, "the metronome's port"
        )
        result = self._tool("jack_connect", str(source), into)
        assert result.returncode == 0, result.stderr

    def _end(self, how: signal.Signals) -> None:
        if self._server is not None:
            self._server.send_signal(how)
            self._server.wait(timeout=10)
            self._server = None

    def _spawn(self, command: list[str]) -> subprocess.Popen:
        return subprocess.Popen(command, env=self._env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _tool(self, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [command[0], "-s", self.name, *command[1:]], env=self._env(), capture_output=True, text=True, timeout=10
        )

    def _env(self) -> dict[str, str]:
        return {**os.environ, "JACK_DEFAULT_SERVER": self.name, "JACK_NO_START_SERVER": "1"}


def jack_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[JackServer]:
    """For a fixture: a JACK server, not yet started, under a name no other test uses meanwhile;
    every JACK client this process starts (the sound input's child process included) finds it
    through JACK_DEFAULT_SERVER. Skips the test when jackd is not installed."""
    if shutil.which("jackd") is None:
        pytest.skip("jackd is not installed (Debian package jackd2): no real sound device to test with")
    with _free_slot() as slot:
        server = JackServer(f"metamorph-test-{slot}")
        monkeypatch.setenv("JACK_DEFAULT_SERVER", server.name)
        monkeypatch.setenv("JACK_NO_START_SERVER", "1")
        try:
            yield server
        finally:
            server.stop()


@contextlib.contextmanager
def _free_slot() -> Iterator[int]:
    """The first slot whose lock is free, held until the end; when all are taken, wait for slot 0."""
    for slot in range(SLOTS):
        lock = open(_lock_path(slot), "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        with lock:
            yield slot
        return
    with open(_lock_path(0), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield 0


def _lock_path(slot: int) -> Path:
    return Path(tempfile.gettempdir()) / f"metamorph-jack-{slot}.lock"
