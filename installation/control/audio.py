"""Sound inputs: a live device (by name, reconnecting) and a music file (for capture).

The device's callback only copies each block out; analysis happens in the render thread. A
device that is missing or disappears makes the show silent with one warning, and is looked for
again, by name, every few seconds: indices change when devices come and go, names do not.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from installation.errors import UserError

log = logging.getLogger(__name__)
NOTHING = np.zeros(0, dtype=np.float32)
RETRY_SECONDS = 3.0


class StreamLost(Exception):
    """The input stopped delivering (unplugged, driver error)."""


class Stream(Protocol):
    sample_rate: float

    def take(self) -> np.ndarray: ...

    def close(self) -> None: ...


class DeviceStream:
    """A sounddevice input stream; ``take`` returns the mono samples since the last call."""

    def __init__(self, name: str | None) -> None:
        import sounddevice

        index, info = find_input(name)
        self.name = info["name"]
        self.sample_rate = float(info["default_samplerate"])
        self._blocks: deque[np.ndarray] = deque(maxlen=256)
        self._lock = threading.Lock()
        self._stream = sounddevice.InputStream(
            device=index, channels=1, samplerate=self.sample_rate, dtype="float32", callback=self._callback
        )
        self._stream.start()

    def _callback(self, indata: np.ndarray, frames: int, moment, status) -> None:
        with self._lock:
            self._blocks.append(indata[:, 0].copy())

    def take(self) -> np.ndarray:
        if not self._stream.active:
            raise StreamLost(f"{self.name} stopped")
        with self._lock:
            blocks = list(self._blocks)
            self._blocks.clear()
        return np.concatenate(blocks) if blocks else NOTHING

    def close(self) -> None:
        self._stream.close(ignore_errors=True)


def find_input(name: str | None) -> tuple[int, dict]:
    """The input device whose name contains ``name`` (any case); the default input when None."""
    import sounddevice

    devices = [(index, info) for index, info in enumerate(sounddevice.query_devices()) if info["max_input_channels"] > 0]
    if not devices:
        raise StreamLost("no sound input device is present")
    if name is None:
        default = sounddevice.default.device[0]
        return next(((i, d) for i, d in devices if i == default), devices[0])
    for index, info in devices:
        if name.lower() in info["name"].lower():
            return index, info
    raise StreamLost(f"no input device matches {name!r}")


def list_inputs() -> list[str]:
    """One line per input device, for ``metamorph devices``."""
    try:
        import sounddevice
    except OSError as error:
        raise UserError(
            f"sounddevice could not load the PortAudio library ({error}); install it with "
            "`apt-get install libportaudio2` (Debian, Ubuntu) or your system's portaudio package."
        ) from error
    return [
        f"{info['name']}  ({info['max_input_channels']} channels, {info['default_samplerate']:.0f} Hz)"
        for info in sounddevice.query_devices()
        if info["max_input_channels"] > 0
    ]


class LiveInput:
    """An input that goes silent when its stream is lost and reopens it when it can."""

    def __init__(
        self,
        open_stream: Callable[[], Stream],
        label: str,
        retry_seconds: float = RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open = open_stream
        self.label = label
        self._retry = retry_seconds
        self._clock = clock
        self._stream: Stream | None = None
        self._next_try = clock()
        self._warned = False
        self.sample_rate = 48000.0

    @property
    def connected(self) -> bool:
        return self._stream is not None

    def read(self) -> np.ndarray:
        """The samples that arrived since the last call (none while disconnected)."""
        if self._stream is None:
            if self._clock() >= self._next_try:
                self._connect()
            return NOTHING
        try:
            return self._stream.take()
        except StreamLost as error:
            log.warning("sound: %s (%s); silent, retrying every %.0f s", self.label, error, self._retry)
            self._drop()
            return NOTHING

    def _connect(self) -> None:
        try:
            self._stream = self._open()
        except Exception as error:  # any failure to open means: silent for now, try again later
            if not self._warned:
                log.warning("sound: %s is not available (%s); the show runs silent, retrying every %.0f s", self.label, error, self._retry)
                self._warned = True
            self._next_try = self._clock() + self._retry
            return
        self.sample_rate = self._stream.sample_rate
        if self._warned:
            log.warning("sound: %s is back", self.label)
        self._warned = False

    def _drop(self) -> None:
        if self._stream is not None:
            self._stream.close()
        self._stream = None
        self._warned = True
        self._next_try = self._clock() + self._retry

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def open_microphone(name: str | None) -> LiveInput | None:
    """The live input named ``name`` (the default input when None), or None without PortAudio."""
    try:
        import sounddevice  # noqa: F401  (raises OSError when libportaudio2 is missing)
    except OSError as error:
        log.warning("sound: the PortAudio library is missing (%s); the show runs silent. Install libportaudio2.", error)
        return None
    return LiveInput(lambda: DeviceStream(name), f"sound input {name!r}" if name else "the default sound input")


class MusicFile:
    """A music file decoded to mono samples, read frame by frame in step with a capture."""

    SAMPLE_RATE = 44100.0

    def __init__(self, path: Path, fps: float) -> None:
        from installation.render.video import ffmpeg

        result = subprocess.run(
            [ffmpeg(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-f", "f32le", "-ac", "1",
             "-ar", str(int(self.SAMPLE_RATE)), "-"],
            capture_output=True,
        )
        if result.returncode != 0:
            raise UserError(f"The audio file {path} could not be decoded ({result.stderr.decode(errors='replace').strip()[-200:]}); give a WAV, FLAC or MP3 file.")
        self.samples = np.frombuffer(result.stdout, dtype=np.float32)
        self.sample_rate = self.SAMPLE_RATE
        self.fps = fps

    def frame(self, index: int) -> np.ndarray:
        """The samples heard during frame ``index``."""
        start = round(index * self.SAMPLE_RATE / self.fps)
        stop = round((index + 1) * self.SAMPLE_RATE / self.fps)
        return self.samples[start:stop]
