"""Sound inputs: a live device (by name, reconnecting) and a music file (for capture).

PortAudio never runs in the show's process. Each attempt to open the device starts a child
process (``python -m installation.control.audio NAME``) that opens it and copies its samples
into a pipe; a worker thread of the show starts that child, drains the pipe and ends the child.
Why a process: when a sound server dies under an open stream, ``Pa_CloseStream`` blocks for
good and PortAudio cannot be started again in that process (``Pa_Terminate`` aborts on an
assertion, reopening fails with "Insufficient memory"); and PortAudio lists devices only when it
starts, so a fresh process is also the re-scan that finds a device plugged in later. Killing a
child never blocks. The render loop only takes what the worker has collected, so it never waits
on the device. A missing or lost device makes the show silent with one warning and is looked
for again by name after 3 s, then less and less often (up to every 30 s): indices change when
devices come and go, names do not.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import importlib.util
import json
import logging
import os
import queue
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

import numpy as np

from installation.backoff import Backoff
from installation.errors import UserError

log = logging.getLogger(__name__)
NOTHING = np.zeros(0, dtype=np.float32)
RETRY_SECONDS = 3.0
"""Pause after a loss before the device is looked for again (each look is a child process)."""
RETRY_LIMIT_SECONDS = 30.0
"""The pause doubles while the device stays missing, up to this: a look costs about 0.2 s of
CPU, which a show on a machine without any input would otherwise pay every 3 s for good."""
POLL_SECONDS = 0.01
"""How often the worker collects samples: often enough that each 60 fps frame gets some."""
CLOSE_SECONDS = 0.5
"""The longest ``LiveInput.close`` waits for the worker."""
LEAVE_SECONDS = 0.3
"""How long a child may take to close its stream when asked, before it is killed."""
OPEN_SECONDS = 10.0
"""How long a child may take to start Python and PortAudio and open the device."""
STALL_SECONDS = 2.0
"""A device that delivers nothing for this long is taken as lost (a running stream never pauses)."""
KEPT_BLOCKS = 512
"""Blocks kept for a render loop that does not read (about 5 s of polls); older ones are dropped."""
EXIT_UNAVAILABLE, EXIT_STOPPED, EXIT_STALLED = 2, 3, 4
ENDINGS = {
    EXIT_STOPPED: "the stream stopped (device unplugged or sound server gone)",
    EXIT_STALLED: f"no samples for {STALL_SECONDS:.0f} s",
}


class StreamLost(Exception):
    """The input stopped delivering (unplugged, driver error), or cannot be opened now."""


class Stream(Protocol):
    """An open input: ``take`` returns the mono samples since the last call, without blocking."""

    sample_rate: float

    def take(self) -> np.ndarray: ...

    def close(self) -> None: ...


class DeviceProcess:
    """The input device ``name`` (the default input when None), opened by a child process.

    The constructor blocks until the child has opened the device (at most ``OPEN_SECONDS``) and
    raises ``StreamLost`` when it cannot; call it from a worker, never from the render loop.
    """

    def __init__(self, name: str | None, open_seconds: float = OPEN_SECONDS) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "installation.control.audio", name or ""],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self._process.stdout is not None
        self._fd = self._process.stdout.fileno()
        try:
            header, self._rest = _read_header(self._fd, time.monotonic() + open_seconds)
            if "error" in header:
                raise StreamLost(header["error"])
        except BaseException:
            self.close()
            raise
        os.set_blocking(self._fd, False)
        self.name: str = header["device"]
        self.sample_rate = float(header["sample_rate"])
        self._last_data = time.monotonic()

    def take(self) -> np.ndarray:
        fresh = self._available()
        now = time.monotonic()
        if fresh:
            self._last_data = now
        elif now - self._last_data > 2 * STALL_SECONDS:  # the child itself hangs
            raise StreamLost(f"the sound process delivered nothing for {2 * STALL_SECONDS:.0f} s")
        data = self._rest + fresh
        whole = len(data) - len(data) % 4
        self._rest = data[whole:]
        return np.frombuffer(data[:whole], dtype=np.float32)

    def _available(self) -> bytes:
        """What the pipe holds now; raises ``StreamLost`` once the child has ended."""
        chunks: list[bytes] = []
        while True:
            try:
                chunk = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                return b"".join(chunks)
            if not chunk:
                raise StreamLost(self._ending())
            chunks.append(chunk)

    def _ending(self) -> str:
        try:
            code = self._process.wait(timeout=CLOSE_SECONDS)
        except subprocess.TimeoutExpired:
            return "the sound process closed its output"
        return ENDINGS.get(code, f"the sound process ended with code {code}")

    def close(self) -> None:
        """Let the child leave the sound server cleanly (its stdin closes), and kill it after
        ``LEAVE_SECONDS``: closing a stream whose server died blocks for good, killing never does."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=LEAVE_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=CLOSE_SECONDS)
        self._process.stdout.close()


def _read_header(fd: int, deadline: float) -> tuple[dict, bytes]:
    """The child's first line (JSON) and the samples that followed it in the same read."""
    data = b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise StreamLost("the sound process did not open the device in time")
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            raise StreamLost("the sound process ended before opening the device")
        data += chunk
    line, rest = data.split(b"\n", 1)
    return json.loads(line), rest


def find_input(name: str | None) -> tuple[int, dict]:
    """The input device whose name contains ``name`` (any case); the default input when None."""
    import sounddevice

    devices = [
        (index, info) for index, info in enumerate(sounddevice.query_devices()) if info["max_input_channels"] > 0
    ]
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
    """A live input whose device lives in a worker thread, so the render loop never waits on it.

    The worker opens a stream (``open_stream``), collects its samples every ``POLL_SECONDS``,
    and when it is lost or cannot be opened, warns once and tries again after ``retry_seconds``,
    a pause that doubles while it stays missing, up to ``retry_limit``.

    Public, read from the render thread (and the show's ``/status``):

    - ``read() -> np.ndarray``: the mono float32 samples that arrived since the last call; never
      blocks; empty while disconnected.
    - ``sample_rate: float``: the rate of the open (or last opened) device, 48000 before any.
    - ``connected: bool``: a device is open and delivering.
    - ``device: str | None``: the open device's name.
    - ``problem: str | None``: why it is silent (None while connected or before the first try).
    - ``close()``: stops the worker and closes the device; returns within about ``CLOSE_SECONDS``.
    """

    def __init__(
        self,
        open_stream: Callable[[], Stream],
        label: str,
        retry_seconds: float = RETRY_SECONDS,
        retry_limit: float = RETRY_LIMIT_SECONDS,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._open = open_stream
        self.label = label
        self._retry = retry_seconds
        self._retry_limit = max(retry_limit, retry_seconds)
        self._poll = poll_seconds
        self.sample_rate = 48000.0
        self.connected = False
        self.device: str | None = None
        self.problem: str | None = None
        self._silent = False
        self._blocks: deque[np.ndarray] = deque(maxlen=KEPT_BLOCKS)
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._run, name=f"sound input: {label}", daemon=True)
        self._worker.start()

    def read(self) -> np.ndarray:
        """The samples that arrived since the last call (none while disconnected); never blocks."""
        blocks = []
        with contextlib.suppress(IndexError):
            while True:
                blocks.append(self._blocks.popleft())
        return np.concatenate(blocks) if blocks else NOTHING

    def close(self) -> None:
        """Stop the worker; it closes the device itself, so a stuck device cannot hold this up."""
        self._stop.set()
        self._worker.join(CLOSE_SECONDS)

    def _run(self) -> None:
        retry = Backoff(self._retry, self._retry_limit)
        while not self._stop.is_set():
            stream = self._connect()
            if stream is None:
                self._stop.wait(retry.failed())
                continue
            try:
                self._pump(stream)
            finally:
                self.connected, self.device = False, None
                stream.close()
            retry.succeeded()
            self._stop.wait(self._retry)

    def _connect(self) -> Stream | None:
        try:
            stream = self._open()
        except Exception as error:  # any failure to open means: silent for now, try again later
            self._silence(f"{self.label} is not available ({error}); the show runs silent", str(error))
            return None
        self.sample_rate = float(stream.sample_rate)
        self.device = str(getattr(stream, "name", self.label))
        self.connected, self.problem = True, None
        if self._silent:
            log.warning("sound: %s is back (%s)", self.label, self.device)
        self._silent = False
        return stream

    def _pump(self, stream: Stream) -> None:
        """Collect samples until the stream is lost or the input is closed."""
        while not self._stop.is_set():
            try:
                samples = stream.take()
            except Exception as error:  # StreamLost, or a broken pipe: the same for the show
                self._silence(f"{self.label} was lost ({error}); silent", str(error))
                return
            if samples.size:
                self._blocks.append(samples)
            self._stop.wait(self._poll)

    def _silence(self, message: str, problem: str) -> None:
        """Warn once per loss, not at every retry, so a missing device does not flood the log."""
        self.problem = problem
        if not self._silent:
            log.warning(
                "sound: %s; looking for it again in %g s, then less often (up to every %g s)",
                message,
                self._retry,
                self._retry_limit,
            )
        self._silent = True


def open_microphone(name: str | None) -> LiveInput | None:
    """The live input named ``name`` (the default input when None), or None without PortAudio."""
    if not _portaudio_present():
        log.warning("sound: the PortAudio library is missing; the show runs silent. Install libportaudio2.")
        return None
    return LiveInput(lambda: DeviceProcess(name), f"sound input {name!r}" if name else "the default sound input")


def _portaudio_present() -> bool:
    """Whether sounddevice would find PortAudio, asked without importing it: importing it starts
    PortAudio (and a JACK client) in the show's process, which is what the child is for."""
    return (
        ctypes.util.find_library("portaudio") is not None or importlib.util.find_spec("_sounddevice_data") is not None
    )


def serve(name: str | None, out: IO[bytes]) -> None:
    """The child's side: open the device, write a JSON header line, then raw float32 samples.

    A lost or stalled stream ends the child at once (``os._exit``: PortAudio's cleanup would hang
    on it). When the show closes the pipe, it returns, and PortAudio's own exit handler closes the
    stream and leaves the sound server cleanly; if that hangs, the show kills the child.
    """
    gone = threading.Event()
    threading.Thread(target=_watch_parent, args=(gone,), daemon=True).start()
    blocks: queue.Queue[bytes] = queue.Queue(maxsize=KEPT_BLOCKS)
    try:
        import sounddevice

        index, info = find_input(name)
        stream = sounddevice.RawInputStream(
            device=index,
            channels=1,
            samplerate=info["default_samplerate"],
            dtype="float32",
            callback=lambda indata, frames, moment, status: _offer(blocks, bytes(indata)),
        )
        stream.start()
    except Exception as error:  # OSError (no PortAudio), PortAudioError, StreamLost
        _write(out, json.dumps({"error": str(error)}).encode() + b"\n")
        os._exit(EXIT_UNAVAILABLE)
    _write(out, json.dumps({"device": info["name"], "sample_rate": info["default_samplerate"]}).encode() + b"\n")
    last = time.monotonic()
    while not gone.is_set():
        try:
            block = blocks.get(timeout=0.1)
        except queue.Empty:
            if not stream.active:
                os._exit(EXIT_STOPPED)
            if time.monotonic() - last > STALL_SECONDS:
                os._exit(EXIT_STALLED)
            continue
        _write(out, block)
        last = time.monotonic()


def _offer(blocks: queue.Queue[bytes], block: bytes) -> None:
    """The audio callback's whole work: hand the block over, dropping it if the pipe is behind."""
    with contextlib.suppress(queue.Full):
        blocks.put_nowait(block)


def _write(out: IO[bytes], data: bytes) -> None:
    try:
        out.write(data)
    except BrokenPipeError:  # the show has gone
        os._exit(0)


def _watch_parent(gone: threading.Event) -> None:
    """Set ``gone`` when the show closes our stdin (or dies); exit anyway if leaving hangs."""
    sys.stdin.buffer.read()
    gone.set()
    time.sleep(2 * LEAVE_SECONDS)
    os._exit(0)


class MusicFile:
    """A music file decoded to mono samples as show time advances, so memory stays flat in its length.

    ffmpeg decodes into a pipe that this reads in blocks: only the samples from the start of the
    last frame heard onwards are kept. Every frame hears the same samples as if the whole file had
    been decoded at once (the pipe carries one continuous decode), so a capture range, which
    listens to every frame before its first, matches the whole run bit for bit. Going back in time
    decodes again from the beginning rather than seeking, since a seek restarts the resampler and
    changes the samples.
    """

    SAMPLE_RATE = 44100.0
    BLOCK_SAMPLES = 1 << 16
    """Samples read from the pipe at a time (256 KiB): a few frames' worth, never the whole file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sample_rate = self.SAMPLE_RATE
        self._process: subprocess.Popen[bytes] | None = None
        self._start_decoding()
        try:
            self._read_block()  # an unreadable file is refused now, not at its first frame
        except UserError:
            self.close()
            raise

    def between(self, start: float, stop: float) -> np.ndarray:
        """The samples heard from show time ``start`` to ``stop`` (seconds): what a frame hears."""
        first, last = round(start * self.sample_rate), round(stop * self.sample_rate)
        if first < self._first:
            self._start_decoding()
        while self._first + self._buffer.size < last and self._read_block():
            self._forget_before(first)
        self._forget_before(first)
        return self._buffer[: max(last - first, 0)]

    def close(self) -> None:
        """End the decoder (it may be waiting to write samples no frame will hear)."""
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            self._process.wait()
            assert self._process.stdout is not None
            self._process.stdout.close()
            self._stderr.close()
            self._process = None

    def _start_decoding(self) -> None:
        """(Re)start ffmpeg at the beginning of the file; its errors go to a file, which cannot fill up."""
        from installation.render.video import ffmpeg

        self.close()
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            [ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(self.path)]
            + ["-f", "f32le", "-ac", "1", "-ar", str(int(self.SAMPLE_RATE)), "-"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self._first = 0
        self._buffer = NOTHING
        self._ended = False
        self._decoded = 0

    def _read_block(self) -> bool:
        """Append the next block from the pipe; False once the decode has ended."""
        if self._ended:
            return False
        assert self._process is not None and self._process.stdout is not None
        data = self._process.stdout.read(4 * self.BLOCK_SAMPLES)
        whole = len(data) - len(data) % 4
        if whole:
            self._buffer = np.concatenate([self._buffer, np.frombuffer(data[:whole], dtype=np.float32)])
            self._decoded += whole // 4
        if len(data) < 4 * self.BLOCK_SAMPLES:
            self._ended = True
            self._check_exit()
        return whole > 0

    def _forget_before(self, sample: int) -> None:
        drop = min(max(sample - self._first, 0), self._buffer.size)
        self._buffer, self._first = self._buffer[drop:], self._first + drop

    def _check_exit(self) -> None:
        """Refuse a file ffmpeg cannot decode (one sentence); a decode that breaks off later
        leaves the rest of the show silent, with one warning."""
        assert self._process is not None
        if self._process.wait() == 0:
            return
        from installation.render.video import ffmpeg_reason

        self._stderr.seek(0)
        reason = ffmpeg_reason(self._stderr.read().decode(errors="replace")) or "ffmpeg gave no reason"
        if not self._decoded:
            raise UserError(
                f"The audio file {self.path} could not be decoded ({reason}); give a WAV, FLAC or MP3 file."
            )
        seconds = self._decoded / self.sample_rate
        log.warning(
            "sound: the audio file %s stopped decoding at %.1f s (%s); the rest is silent", self.path, seconds, reason
        )


if __name__ == "__main__":
    # Samples go to a copy of stdout; C libraries that print to stdout must not corrupt them.
    samples_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    serve(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None, samples_out)
