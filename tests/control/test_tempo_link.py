"""Ableton Link: the show's source and a second peer in another process (the binding itself) on loopback."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from installation.control.tempo import open_source
from installation.control.tempo.link import LinkSource, LinkUnavailable
from installation.scene.tempo import Beat
from tests.helpers import wait_for

PEER = Path(__file__).with_name("link_peer.py")


class Peer:
    def __init__(self, bpm: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(PEER), str(bpm)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.ask("") == "ready"

    def ask(self, line: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        if line:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def state(self) -> tuple[float, int]:
        tempo, peers = self.ask("state").split()
        return float(tempo), int(peers)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture
def peer() -> Iterator[Peer]:
    pytest.importorskip("link")
    made = Peer(137.0)
    try:
        yield made
    finally:
        made.close()


def frames(source: LinkSource, condition) -> Beat:
    """Read the source as the render loop does until ``condition(reading)``; that reading."""
    found: list[Beat] = []

    def step() -> bool:
        reading = source.read(0.0)
        found.append(reading)
        return bool(condition(reading))

    wait_for(step, 15, "the Link reading")
    return found[-1]


@pytest.mark.slow
def test_the_show_and_a_peer_share_tempo_changes_and_phase(peer: Peer) -> None:
    source = LinkSource(120.0)
    try:
        frames(source, lambda r: r.peers >= 1)
        # Which of two sessions that meet keeps its tempo is Link's to decide: the peer sets its
        # own once they are one session, and the show takes it.
        peer.ask("tempo 137")
        joined = frames(source, lambda r: abs(r.tempo - 137.0) < 0.01)
        assert joined.locked and joined.playing and joined.peers >= 1

        changed_at = int(peer.ask("tempo 150"))
        seen = frames(source, lambda r: abs(r.tempo - 150.0) < 0.01)
        assert seen.time * 1e6 - changed_at < 60 / 150 * 1e6  # within one beat, on Link's clock

        assert source.set_tempo(128.0)
        wait_for(lambda: abs(peer.state()[0] - 128.0) < 0.01, 15, "the peer taking our tempo")

        reading = source.read(0.0)
        assert reading.tempo == pytest.approx(128.0)
        peer_beat, peer_phase = (float(x) for x in peer.ask(f"beat {round(reading.time * 1e6)}").split())
        assert abs(reading.beat - peer_beat) * 60 / reading.tempo < 0.001
        assert abs(reading.phase - peer_phase) * 60 / reading.tempo < 0.001
    finally:
        source.close()


def test_without_the_binding_one_sentence_and_the_show_runs_free(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "link", None)
    with pytest.raises(LinkUnavailable, match="LinkPython-extern"):
        LinkSource()
    with caplog.at_level(logging.WARNING):
        assert open_source("link") is None
    assert [r.getMessage() for r in caplog.records if "LinkPython-extern" in r.getMessage()]


def test_bad_tempos_are_refused_and_counted() -> None:
    pytest.importorskip("link")
    source = LinkSource(120.0)
    try:
        for bad in (float("nan"), float("inf"), 10.0, 1000.0):
            assert not source.set_tempo(bad)
        assert source.rejected == 4
        assert source.read(0.0).tempo == 120.0
    finally:
        source.close()
