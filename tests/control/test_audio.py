"""Sound inputs: fake devices that fail, hang and come back; the real child process without a
device; a music file read per frame. The same with a real JACK server is in test_audio_jack.py."""

from __future__ import annotations

import logging
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from installation.control.audio import CLOSE_SECONDS, DeviceProcess, LiveInput, MusicFile, StreamLost
from tests.helpers import wait_for

AUDIO_LOG = "installation.control.audio"


class FakeStream:
    """Stands in for a sound card: hands out its blocks, then reports itself unplugged."""

    sample_rate = 44100.0
    name = "Fake USB"

    def __init__(self, blocks: list[np.ndarray]) -> None:
        self.blocks = blocks
        self.closed = threading.Event()

    def take(self) -> np.ndarray:
        if not self.blocks:
            raise StreamLost("unplugged")
        return self.blocks.pop(0)

    def close(self) -> None:
        self.closed.set()


class HungStream(FakeStream):
    """A driver that hangs: ``take`` and ``close`` block until released (as Pa_CloseStream did)."""

    def __init__(self) -> None:
        super().__init__([])
        self.release = threading.Event()

    def take(self) -> np.ndarray:
        self.release.wait()
        raise StreamLost("driver error")

    def close(self) -> None:
        self.release.wait()
        super().close()


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == AUDIO_LOG and r.levelno == logging.WARNING]


def test_a_lost_input_goes_silent_and_comes_back(caplog: pytest.LogCaptureFixture) -> None:
    plugged = threading.Event()
    plugged.set()
    streams: list[FakeStream] = []

    def open_stream() -> FakeStream:
        if not plugged.is_set():
            raise StreamLost("no input device matches 'USB'")
        streams.append(FakeStream([np.full(4, len(streams) + 1, np.float32)] * 3))
        if len(streams) == 1:
            plugged.clear()  # unplugged as soon as the first stream has delivered its blocks
        return streams[-1]

    caplog.set_level(logging.WARNING, AUDIO_LOG)
    live = LiveInput(open_stream, "sound input 'USB'", retry_seconds=0.05)
    try:
        wait_for(lambda: streams and streams[0].closed.is_set(), 5, "the lost stream to be closed")
        assert live.read().tolist() == [1.0] * 12 and live.sample_rate == 44100.0
        wait_for(lambda: live.problem == "no input device matches 'USB'", 5, "the retries to report the missing device")
        assert not live.connected and live.device is None and live.read().size == 0
        assert len(warnings_of(caplog)) == 1 and "looking for it again in 0.05 s" in warnings_of(caplog)[0]
        plugged.set()
        wait_for(lambda: len(streams) >= 2 and streams[1].closed.is_set(), 5, "the device to be opened again")
        assert any("is back (Fake USB)" in message for message in warnings_of(caplog))
        assert (live.read() == 2.0).sum() == 12
    finally:
        live.close()


def test_a_missing_input_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    attempts = []

    def absent() -> FakeStream:
        attempts.append(time.monotonic())
        raise StreamLost("no sound input device is present")

    caplog.set_level(logging.WARNING, AUDIO_LOG)
    live = LiveInput(absent, "the default sound input", retry_seconds=0.01, retry_limit=0.01)
    try:
        wait_for(lambda: len(attempts) >= 20, 10, "twenty attempts")
        assert live.read().size == 0 and not live.connected
    finally:
        live.close()
    assert len(warnings_of(caplog)) == 1


def test_looking_for_a_missing_input_slows_down() -> None:
    """Each look costs a process start: the pause doubles (0.05, 0.1, 0.2, 0.4, 0.4 s here)."""
    attempts = []

    def absent() -> FakeStream:
        attempts.append(time.monotonic())
        raise StreamLost("no sound input device is present")

    live = LiveInput(absent, "the default sound input", retry_seconds=0.05, retry_limit=0.4)
    try:
        wait_for(lambda: len(attempts) >= 6, 10, "six attempts")
    finally:
        live.close()
    assert attempts[5] - attempts[0] >= 0.05 + 0.1 + 0.2 + 0.4 + 0.4


def test_a_hung_driver_never_holds_up_the_render_loop() -> None:
    """The show froze when closing a stream blocked in the render thread: now read() and close()
    return at once, whatever the stream does, because only the worker touches it."""
    stream = HungStream()
    opened = threading.Event()

    def open_stream() -> HungStream:
        opened.set()
        return stream

    live = LiveInput(open_stream, "a hanging card", retry_seconds=0.05)
    try:
        assert opened.wait(5)
        started = time.monotonic()
        for _ in range(100):
            assert live.read().size == 0
        assert time.monotonic() - started < 1.0
        started = time.monotonic()
        live.close()
        assert time.monotonic() - started < CLOSE_SECONDS + 0.5
        assert not stream.closed.is_set()  # still hanging in the worker, not in the caller
    finally:
        stream.release.set()
    wait_for(stream.closed.is_set, 5, "the worker to close the released stream")


def test_an_open_that_hangs_does_not_block_read_or_close() -> None:
    release = threading.Event()

    def slow_open() -> FakeStream:
        release.wait()
        return FakeStream([])

    live = LiveInput(slow_open, "a slow card")
    started = time.monotonic()
    assert live.read().size == 0 and not live.connected
    live.close()
    assert time.monotonic() - started < CLOSE_SECONDS + 0.5
    release.set()


def test_the_device_process_reports_a_missing_device() -> None:
    """The real child process (PortAudio in a fresh process) for a name no device has."""
    with pytest.raises(StreamLost, match="no input device matches|no sound input device"):
        DeviceProcess("no such sound card 5c1e")


def test_music_file_is_read_in_show_time(tmp_path: Path) -> None:
    path = tmp_path / "ramp.wav"
    samples = (np.linspace(-0.5, 0.5, 44100) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as stream:
        stream.setnchannels(1)
        stream.setsampwidth(2)
        stream.setframerate(44100)
        stream.writeframes(samples.tobytes())
    music = MusicFile(path)
    assert music.between(0.0, 0.04).size == 1764 and music.between(0.96, 1.0).size == 1764
    assert music.between(0.4, 0.44)[0] == pytest.approx(-0.5 + 0.4, abs=1e-3)
    assert music.between(1.0, 1.04).size == 0
