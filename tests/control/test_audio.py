"""Sound inputs: a fake device that fails and comes back, and a music file read per frame."""

from __future__ import annotations

import logging
import wave
from pathlib import Path

import numpy as np
import pytest

from installation.control.audio import LiveInput, MusicFile, StreamLost


class FakeStream:
    """Stands in for a sound card: hands out blocks until it is unplugged."""

    sample_rate = 48000.0

    def __init__(self, blocks: list[np.ndarray]) -> None:
        self.blocks = blocks
        self.closed = False

    def take(self) -> np.ndarray:
        if not self.blocks:
            raise StreamLost("unplugged")
        return self.blocks.pop(0)

    def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_lost_input_goes_silent_and_comes_back(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    plugged = {"present": True}
    streams: list[FakeStream] = []

    def open_stream() -> FakeStream:
        if not plugged["present"]:
            raise StreamLost("no input device matches 'USB'")
        streams.append(FakeStream([np.full(4, len(streams) + 1, np.float32)]))
        return streams[-1]

    live = LiveInput(open_stream, "sound input 'USB'", retry_seconds=3.0, clock=clock)
    assert live.read().size == 0 and live.connected  # opened on the first frame
    assert live.read().tolist() == [1.0] * 4
    plugged["present"] = False
    with caplog.at_level(logging.WARNING):
        assert live.read().size == 0  # unplugged: silent
    assert not live.connected and streams[0].closed
    assert "retrying every 3 s" in caplog.text
    clock.now = 2.0
    assert live.read().size == 0 and len(streams) == 1  # not yet retried
    clock.now = 3.5
    live.read()  # retried, still absent
    plugged["present"] = True
    clock.now = 7.0
    live.read()
    assert live.connected
    assert live.read().tolist() == [2.0] * 4
    assert "is back" in caplog.text


def test_a_missing_input_warns_once() -> None:
    clock = Clock()

    def absent():
        raise StreamLost("no sound input device is present")

    live = LiveInput(absent, "the default sound input", clock=clock)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("installation.control.audio").addHandler(handler)
    try:
        for second in range(20):
            clock.now = float(second)
            assert live.read().size == 0
    finally:
        logging.getLogger("installation.control.audio").removeHandler(handler)
    assert len(records) == 1


def test_music_file_frames_follow_the_clock(tmp_path: Path) -> None:
    path = tmp_path / "ramp.wav"
    samples = (np.linspace(-0.5, 0.5, 44100) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as stream:
        stream.setnchannels(1)
        stream.setsampwidth(2)
        stream.setframerate(44100)
        stream.writeframes(samples.tobytes())
    music = MusicFile(path, fps=25)
    assert music.frame(0).size == 1764 and music.frame(24).size == 1764
    assert music.frame(10)[0] == pytest.approx(-0.5 + 10 / 25, abs=1e-3)
    assert music.frame(25).size == 0
