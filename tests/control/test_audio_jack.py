"""The live input against a real sound device: a JACK server (dummy driver) that PortAudio sees
as the input "system", fed by a metronome client, and killed and restarted under the show."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import pytest

from installation.control.analysis import SoundAnalysis
from installation.control.audio import CLOSE_SECONDS, DeviceProcess, LiveInput
from installation.scene.modulation import SoundFeatures
from tests.helpers import wait_for
from tests.jack import JackServer, jack_server

pytestmark = pytest.mark.slow
AUDIO_LOG = "installation.control.audio"
RETRY = 0.5
"""Seconds between attempts: shorter than the show's 3 s so that the tests wait less."""
READ_BOUND = 0.25
"""A generous bound for one ``read()`` on a busy machine: it only empties a queue."""


@pytest.fixture
def jack(monkeypatch: pytest.MonkeyPatch) -> Iterator[JackServer]:
    yield from jack_server(monkeypatch)


def system_input() -> LiveInput:
    return LiveInput(lambda: DeviceProcess("system"), "sound input 'system'", retry_seconds=RETRY)


def play_clicks_into(jack: JackServer, live: LiveInput) -> None:
    """Once the input is open, feed PortAudio's input port from a metronome (300 bpm)."""
    wait_for(lambda: live.connected, 15, "the input to open")
    port = wait_for(
        lambda: next((p for p in jack.ports() if p.startswith("PortAudio") and ":in" in p), None),
        10,
        "PortAudio's input port",
    )
    jack.play_clicks(str(port))


class RenderLoop:
    """Reads and analyses at 60 fps as the show does, and keeps the slowest read."""

    def __init__(self, live: LiveInput) -> None:
        self.live = live
        self.analysis = SoundAnalysis(live.sample_rate)
        self.features: list[SoundFeatures] = []
        self.slowest = 0.0

    def run(self, seconds: float, until: Callable[[], bool] = lambda: False) -> bool:
        """Frames for up to ``seconds``; True as soon as ``until()`` holds."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.monotonic()
            samples = self.live.read()
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.features.append(self.analysis.update(samples, 1 / 60))
            if until():
                return True
            time.sleep(1 / 60)
        return False


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == AUDIO_LOG and r.levelno == logging.WARNING]


def test_clicks_played_into_the_device_drive_the_features(jack: JackServer) -> None:
    jack.start()
    live = system_input()
    try:
        play_clicks_into(jack, live)
        assert live.device == "system" and live.sample_rate == 48000.0
        loop = RenderLoop(live)
        assert loop.run(10, until=lambda: sum(f.onset for f in loop.features) >= 5), "five clicks heard as onsets"
    finally:
        live.close()
    assert max(f.level for f in loop.features) > 0.8 and max(f.mid for f in loop.features) > 0.5  # 880 Hz clicks
    assert loop.slowest < READ_BOUND


def test_a_server_that_dies_mid_show_silences_without_blocking(
    jack: JackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, AUDIO_LOG)
    jack.start()
    live = system_input()
    try:
        play_clicks_into(jack, live)
        loop = RenderLoop(live)
        assert loop.run(10, until=lambda: loop.features[-1].level > 0.5), "the clicks heard"
        caplog.clear()  # a server just started may be missed once by the first look: said, then found
        jack.kill()
        assert loop.run(10, until=lambda: not live.connected), "the input to notice the dead server"
        assert loop.run(10, until=lambda: loop.features[-1].level < 0.01), "the show to go silent"
        assert live.read().size == 0 and live.problem
        assert loop.slowest < READ_BOUND
        assert len(warnings_of(caplog)) == 1 and "was lost" in warnings_of(caplog)[0]
    finally:
        started = time.monotonic()
        live.close()
        closing = time.monotonic() - started
    assert closing < CLOSE_SECONDS + 0.5, f"close took {closing:.2f} s"


def test_close_right_after_the_server_died_returns_at_once(jack: JackServer) -> None:
    """The old code blocked here for good, in Pa_CloseStream."""
    jack.start()
    live = system_input()
    wait_for(lambda: live.connected, 15, "the input to open")
    jack.kill()
    started = time.monotonic()
    live.close()
    assert time.monotonic() - started < CLOSE_SECONDS + 0.5


def test_a_restarted_server_is_found_again_in_the_same_process(
    jack: JackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, AUDIO_LOG)
    jack.start()
    live = system_input()
    try:
        wait_for(lambda: live.connected, 15, "the input to open")
        jack.kill()
        wait_for(lambda: live.problem and "stream stopped" not in live.problem, 10, "a retry to find no device")
        assert not live.connected
        jack.start()
        play_clicks_into(jack, live)
        loop = RenderLoop(live)
        assert loop.run(10, until=lambda: loop.features[-1].onset), "an onset after the restart"
    finally:
        live.close()
    assert any("is back" in message for message in warnings_of(caplog))


def test_a_device_missing_at_start_is_found_when_it_appears(jack: JackServer) -> None:
    live = system_input()
    try:
        wait_for(lambda: live.problem, 15, "the first attempt to fail")
        assert not live.connected and live.read().size == 0
        jack.start()
        wait_for(lambda: live.connected, 15, "the input to be found")
        wait_for(lambda: live.read().size, 5, "samples from the device")
        assert live.device == "system"
    finally:
        live.close()
