"""The NDI output against a real NDI receiver in another process (``ndi_peer.py``, the binding's
own finder and receiver, discovering through 127.0.0.1 as mDNS does not see this machine)."""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.errors import UserError
from installation.outputs import ndi as ndi_output
from installation.outputs.ndi import (
    NdiSender,
    frame_rate,
    list_sources,
    metadata_xml,
    ndi_command,
    open_ndi,
    timecode,
)
from installation.render.loop import Dropping
from installation.render.readback import PixelFormat
from tests.helpers import QUIET_PLAY, metamorph, wait_for

PEER = Path(__file__).with_name("ndi_peer.py")
SIZE = (320, 180)
FPS = 30


@pytest.fixture
def ndi_runtime() -> None:
    """The real binding and runtime (the extra ``ndi``; scripts/test installs it)."""
    pytest.importorskip("NDIlib", reason="the ndi extra is not installed: pip install -e '.[ndi]'")


@pytest.fixture
def name() -> str:
    """A source name of this test alone (several test runs may share the machine)."""
    return f"metamorph-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Peer:
    """An ndi_peer.py process and the JSON events it reports."""

    def __init__(self, *args: object) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(PEER), *map(str, args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.events: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.events.put(json.loads(line))
        self.events.put({"event": "exit"})

    def expect(self, event: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                got = self.events.get(timeout=left)
            except queue.Empty:
                break
            if got["event"] == event:
                return got
            if got["event"] in ("exit", "not found", "no runtime"):
                raise AssertionError(f"the NDI peer ended with {got} while waiting for {event!r}")
        raise AssertionError(f"the NDI peer did not report {event!r} within {timeout} s")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def peers() -> Iterator[Callable[..., Peer]]:
    started: list[Peer] = []

    def start(*args: object) -> Peer:
        started.append(Peer(*args))
        return started[-1]

    yield start
    for peer in started:
        peer.close()


def colour_bars(number: int) -> np.ndarray:
    """SMPTE-like bars (white, yellow, cyan, green, magenta, red, blue, black) with a grey band on
    top whose level is the frame's number, so a received frame tells which one it is."""
    levels = np.array([[1, 1, 1], [1, 1, 0], [0, 1, 1], [0, 1, 0], [1, 0, 1], [1, 0, 0], [0, 0, 1], [0, 0, 0]])
    width, height = SIZE
    bars = np.repeat(levels * 191, width // len(levels), axis=0).astype(np.uint8)
    picture = np.repeat(bars[None], height, axis=0)
    picture[:20] = 16 + number % 200
    return picture


def to_uyvy(rgb: np.ndarray) -> bytes:
    """8-bit RGB -> UYVY 4:2:2, BT.709 limited range (what a mixer expects from NDI)."""
    r, g, b = (rgb[..., channel].astype(np.float64) / 255 for channel in range(3))
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    cb = (b - y) / 1.8556
    cr = (r - y) / 1.5748
    luma = 16 + 219 * y
    u = 128 + 224 * (cb[:, 0::2] + cb[:, 1::2]) / 2
    v = 128 + 224 * (cr[:, 0::2] + cr[:, 1::2]) / 2
    packed = np.stack([u, luma[:, 0::2], v, luma[:, 1::2]], axis=-1)
    return np.clip(np.round(packed), 0, 255).astype(np.uint8).tobytes()


def from_uyvy(data: bytes | np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """UYVY -> 8-bit RGB (BT.709 limited range), for comparing pictures after the round trip."""
    width, height = size
    packed = np.frombuffer(bytes(data), dtype=np.uint8).reshape(height, width // 2, 4).astype(np.float64)
    u, y0, v, y1 = (packed[..., k] for k in range(4))
    y = (np.stack([y0, y1], axis=-1).reshape(height, width) - 16) / 219
    cb = np.repeat((u - 128) / 224, 2, axis=1)
    cr = np.repeat((v - 128) / 224, 2, axis=1)
    r = y + 1.5748 * cr
    b = y + 1.8556 * cb
    g = (y - 0.2126 * r - 0.0722 * b) / 0.7152
    return np.clip(np.round(np.stack([r, g, b], axis=-1) * 255), 0, 255).astype(np.uint8)


# Without the binding ----------------------------------------------------------------------------


def test_without_the_binding_open_and_list_say_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "NDIlib", None)  # `import NDIlib` now fails as if not installed
    monkeypatch.setattr(ndi_output, "_ndi_module", None)
    sentence = "NDI needs the ndi-python binding with its NDI runtime, which is not installed here: run pip install -e '.[ndi]'."
    with pytest.raises(UserError) as opened:
        open_ndi("metamorph", SIZE, FPS)
    assert str(opened.value) == sentence
    with pytest.raises(UserError) as listed:
        list_sources(0.1, "127.0.0.1")
    assert str(listed.value) == sentence


def test_frame_rates_time_codes_and_metadata() -> None:
    assert frame_rate(60) == (60, 1)
    assert frame_rate(25.0) == (25, 1)
    assert frame_rate(29.97) == (30000, 1001)
    assert frame_rate(59.94) == (60000, 1001)
    assert frame_rate(23.976) == (24000, 1001)
    assert timecode(30, (30, 1)) == 10_000_000  # one second in NDI's 100 ns units
    assert timecode(30000, (30000, 1001)) == 1001 * 10_000_000
    assert [timecode(n, (60, 1)) for n in range(3)] == [0, 166_666, 333_333]
    assert metadata_xml('The "alps" & co', "alps<1>", 3) == (
        '<metamorph show=\'The "alps" &amp; co\' sequence="alps&lt;1&gt;" keyframe="3"/>'
    )


def test_bad_formats_and_sizes_say_one_sentence(ndi_runtime: None) -> None:
    with pytest.raises(UserError, match="UYVY or BGRA"):
        open_ndi("metamorph", SIZE, FPS, PixelFormat.RGB)
    with pytest.raises(UserError, match="even width"):
        open_ndi("metamorph", (321, 180), FPS)
    with pytest.raises(UserError, match="name is empty"):
        open_ndi(" ", SIZE, FPS)


# With the real runtime --------------------------------------------------------------------------


@pytest.mark.slow
def test_the_source_is_listed_by_name_and_address(
    ndi_runtime: None, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_ndi(name, SIZE, FPS) as sender:
        assert sender.full_name.endswith(f"({name})")
        sender.write(to_uyvy(colour_bars(0)))
        assert ndi_command(1.5, "127.0.0.1") == 0
        table = capsys.readouterr().out
        assert table.splitlines()[0].split() == ["NAME", "ADDRESS"]
        row = next(line for line in table.splitlines() if line.startswith(sender.full_name))
        assert row.split()[-1].startswith("127.0.0.1:")
        assert sender.sent == 1 and sender.failed == 0
        assert any(source.name == sender.full_name for source in list_sources(1.0, "127.0.0.1"))


def test_a_name_in_use_is_said_in_one_line_and_numbered(
    ndi_runtime: None, name: str, peers: Callable[..., Peer], caplog: pytest.LogCaptureFixture
) -> None:
    other = peers("sender", name)
    owner = other.expect("ready")["name"]
    assert owner.endswith(f"({name})")
    with caplog.at_level(logging.WARNING, logger="installation.outputs.ndi"):
        sender = open_ndi(name, SIZE, FPS)
    with sender:
        assert sender.name == f"{name} (2)"
        assert sender.full_name.endswith(f"({name} (2))")
        warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
        assert len(warnings) == 1 and "\n" not in warnings[0]
        assert owner in warnings[0] and sender.full_name in warnings[0]


@pytest.mark.slow
def test_a_real_receiver_gets_the_frames_pixels_metadata_and_sound(
    ndi_runtime: None, name: str, peers: Callable[..., Peer], tmp_path: Path
) -> None:
    frames, saved = 150, 75  # 5 s at 30 fps
    rate = frame_rate(FPS)
    sender = open_ndi(name, SIZE, FPS, show="Alpine test")
    sender.describe("alps", 3)
    receiver = peers("receive", name, timecode(frames - 1, rate), timecode(saved, rate), tmp_path / "frame.npy")
    receiver.expect("found")
    wait_for(lambda: sender.receivers == 1)

    pictures = {number: to_uyvy(colour_bars(number)) for number in range(frames)}
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(1600) / 48000).astype(np.float32)
    start = time.monotonic()
    for number in range(frames):  # paced as the show would be; the sends themselves never wait
        time.sleep(max(0.0, start + number / FPS - time.monotonic()))
        sender.send(pictures[number], number)
        sender.send_audio(np.stack([tone, -tone]), 48000)
    report = receiver.expect("done")

    print(f"\nNDI 320x180 UYVY at 30 fps over 5 s: {report['frames']} of {sender.sent} frames received")
    assert sender.sent == frames and sender.failed == 0
    assert report["frames"] >= 0.9 * frames
    sent_codes = [timecode(number, rate) for number in range(frames)]
    assert set(report["timecodes"]) <= set(sent_codes)
    assert report["timecodes"] == sorted(report["timecodes"])
    assert report["video"] == {
        "fourcc": 0x59565955,
        "size": list(SIZE),
        "stride": 640,
        "rate": [30, 1],
        "progressive": True,
    }

    label = metadata_xml("Alpine test", "alps", 3)
    assert report["metadata"] == [label]  # on every frame
    assert label in report["connection"]  # and what a receiver is told when it connects

    received = np.load(tmp_path / "frame.npy")
    assert received.shape == (180, 320, 2)
    sent = np.frombuffer(pictures[saved], dtype=np.uint8).reshape(180, 320, 2)
    difference = np.abs(received.astype(int) - sent.astype(int))
    print(f"frame {saved}: UYVY bytes differ by at most {difference.max()}, mean {difference.mean():.3f}")
    assert np.percentile(difference, 99) <= 2
    rgb_difference = np.abs(from_uyvy(received, SIZE).astype(int) - colour_bars(saved).astype(int))
    assert np.percentile(rgb_difference, 99) <= 2  # within 2 of 255 after the round trip, edges aside

    audio = report["audio"]
    assert audio["channels"] == 2 and audio["rate"] == 48000
    assert audio["samples"] >= 0.9 * frames * 1600
    assert abs(audio["peak"] - 0.5) < 0.01

    receiver.process.wait(timeout=10)
    wait_for(lambda: sender.receivers == 0)
    sender.close()


@pytest.mark.slow
def test_alpha_arrives_transparent(ndi_runtime: None, name: str, peers: Callable[..., Peer], tmp_path: Path) -> None:
    width, height = SIZE
    bgra = np.zeros((height, width, 4), dtype=np.uint8)
    bgra[:, width // 2 :] = (40, 160, 220, 255)  # opaque orange on the right, nothing on the left
    rate = frame_rate(FPS)
    with open_ndi(name, SIZE, FPS, PixelFormat.BGRA) as sender:
        receiver = peers("receive", name, timecode(29, rate), timecode(15, rate), tmp_path / "frame.npy")
        receiver.expect("found")
        wait_for(lambda: sender.receivers == 1)
        for number in range(30):
            sender.send(bgra.tobytes(), number)
            time.sleep(1 / FPS)
        report = receiver.expect("done")
    assert report["video"]["fourcc"] == 0x41524742  # BGRA: the alpha is kept
    received = np.load(tmp_path / "frame.npy")
    assert received.shape == (height, width, 4)
    assert np.percentile(received[:, : width // 2 - 8, 3], 99) <= 2
    assert np.percentile(received[:, width // 2 + 8 :, 3], 1) >= 253


@pytest.mark.slow
def test_receivers_that_connect_and_vanish_100_times_never_stop_the_sends(
    ndi_runtime: None, name: str, peers: Callable[..., Peer]
) -> None:
    sender = open_ndi(name, SIZE, 60)
    output = Dropping(sender)  # as the live readback writes it: on a thread of its own
    offered = 0
    errors: list[BaseException] = []
    stop = threading.Event()
    picture = to_uyvy(colour_bars(0))

    def render() -> None:  # the render thread: offers a frame every 1/60 s and must never wait
        nonlocal offered
        try:
            while not stop.is_set():
                output.write(picture)
                offered += 1
                time.sleep(1 / 60)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=render, daemon=True)
    thread.start()
    flapping = peers("flap", name, 100)
    cycles = []
    sends_at_cycle = []
    for _ in range(100):
        cycles.append(flapping.expect("cycle", timeout=60))
        sends_at_cycle.append(sender.sent)
    flapping.expect("done")
    for _ in range(3):  # and receivers killed mid-stream, without a word
        held = peers("hold", name)
        held.expect("frame")
        held.process.send_signal(signal.SIGKILL)
        held.process.wait(timeout=10)
        sends_at_cycle.append(sender.sent)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive() and errors == []
    output.close()
    print(f"\nflapping receivers: {sender.sent} sent, {output.dropped} dropped of {offered} offered")
    assert sum(cycle["frame"] for cycle in cycles) >= 90  # the receivers did get frames
    assert sender.failed == 0
    assert output.written + output.dropped == offered
    assert sends_at_cycle == sorted(sends_at_cycle) and sends_at_cycle[-1] > sends_at_cycle[0]
    wait_for(lambda: sender.receivers == 0)
    sender.write(picture)  # still taking frames after all that
    assert sender.failed == 0
    sender.close()
    assert isinstance(sender, NdiSender)


@pytest.mark.slow
def test_metamorph_ndi_lists_the_show_or_says_what_to_install(
    ndi_runtime: None, name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from installation.cli import main

    with open_ndi(name, SIZE, FPS) as sender:
        listed = subprocess.run(
            [sys.executable, "-m", "installation", "ndi", "--timeout", "1.5"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0, listed.stderr
        assert any(line.startswith(sender.full_name + " ") for line in listed.stdout.splitlines())

    monkeypatch.setitem(sys.modules, "NDIlib", None)
    monkeypatch.setattr(ndi_output, "_ndi_module", None)
    assert main(["ndi", "--timeout", "0.2"]) == 2
    assert capsys.readouterr().err.strip() == f"metamorph: error: {ndi_output.NO_NDI}"


# Through metamorph play -------------------------------------------------------------------------


@pytest.mark.slow
def test_play_sends_the_show_as_an_ndi_source(
    ndi_runtime: None, name: str, peers: Callable[..., Peer], tmp_path: Path, sequence_folder: Path
) -> None:
    """``play --ndi NAME``: a real receiver finds the show, gets its frames at the window's size in
    UYVY with the sequence in the metadata, the picture capture draws, and the music it plays as
    NDI sound."""
    still = ["--speed", "0", "--hold", "1", "--audio-gain", "0"]  # every frame the same: frame 0's
    music = tmp_path / "tone.wav"
    write_tone(music, 440.0, 0.5, seconds=30.0)
    reference = tmp_path / "reference"
    captured = metamorph(
        "capture",
        str(sequence_folder),
        *still,
        "--size",
        "320x180",
        "--fps",
        "30",
        "--frames",
        "0:1",
        "--seconds",
        "1",
        "--quiet",
        "--out",
        str(reference),
    )
    assert captured.returncode == 0, captured.stderr
    receiver = peers("receive", name, 10**18, -1, tmp_path / "frame.npy")
    show = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "installation",
            "play",
            str(sequence_folder),
            *still,
            "--window",
            "320x180",
            "--fixed-step",
            "30",
            "--no-vsync",
            *QUIET_PLAY,
            "--audio",
            str(music),
            "--ndi",
            name,
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        receiver.expect("saved", timeout=60)
        receiver.expect("heard", timeout=30)  # the music's sound too, before the show ends
    finally:
        show.terminate()
        _, log = show.communicate(timeout=60)
    assert show.returncode == 0, log
    done = receiver.expect("done", timeout=30)
    assert done["frames"] >= 1 and done["video"]["size"] == list(SIZE)
    assert done["video"]["fourcc"] == 0x59565955  # UYVY
    labels = done["metadata"] + done["connection"]
    assert any(f'sequence="{sequence_folder.name}"' in text for text in labels), labels
    received = from_uyvy(np.load(tmp_path / "frame.npy"), SIZE).astype(int)
    drawn = np.asarray(Image.open(reference / "frame_000000.png")).astype(int)
    assert drawn.std() > 20  # a picture, not a blank
    assert np.abs(received - drawn).mean() < 2 and np.percentile(np.abs(received - drawn), 99) <= 8
    assert "sending the show over NDI as" in log
    sound = done["audio"]
    assert sound["channels"] == 1 and sound["rate"] == 44100 and sound["samples"] > 0
    assert abs(sound["peak"] - 0.5) < 0.02  # the tone, as the show heard it


@pytest.mark.slow
def test_a_slow_receiver_costs_frames_not_the_shows_pace(
    ndi_runtime: None, name: str, peers: Callable[..., Peer], sequence_folder: Path
) -> None:
    """A receiver that sleeps 200 ms a frame: the show draws every frame it was asked for while
    the receiver gets only a few of them; had the show waited for it, it would have had them all."""
    from installation.app import Player
    from tests.helpers import quiet_options

    player = Player(quiet_options(sequence_folder, 240, ndi=name))
    receiver = peers("slow", name, 0.2)
    receiver.expect("connected", timeout=60)
    wait_for(lambda: player.ndi is not None and player.ndi[0].receivers > 0, 30, "the receiver's connection")
    player.run()
    sender, readback = player.ndi
    assert player.frames == 240
    assert sender.sent + readback.dropped == 240  # every frame sent or counted as dropped
    received = receiver.expect("done", timeout=60)["frames"]
    assert 0 < received < 240 // 2


def write_tone(path: Path, frequency: float, amplitude: float, seconds: float, rate: int = 44100) -> None:
    """A mono 16-bit WAV of a sine tone."""
    t = np.arange(int(seconds * rate)) / rate
    samples = np.round(amplitude * np.sin(2 * np.pi * frequency * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
