"""MIDI clock in, on real JACK MIDI ports (python-rtmidi's JACK API; no ALSA sequencer here)."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterator

import pytest

from installation.control.tempo import midiclock
from installation.control.tempo.midiclock import MidiClockSource
from installation.scene.show import Show
from installation.scene.tempo import TempoPolicy
from tests.helpers import flat_stage, wait_for
from tests.jack import JackServer, jack_server

pytest.importorskip("mido")
rtmidi = pytest.importorskip("rtmidi")

BPM = 128.0
TICK = 60.0 / (BPM * 24)


@pytest.fixture
def jack(monkeypatch: pytest.MonkeyPatch) -> Iterator[JackServer]:
    for server in jack_server(monkeypatch):
        server.start()
        wait_for(server.ports, 10, "the JACK server's ports")
        monkeypatch.setattr(midiclock, "RETRY_SECONDS", 0.2)
        yield server


class Clock:
    """A drum machine's MIDI clock out: ticks at 128 BPM, each up to 2 ms early or late."""

    def __init__(self) -> None:
        self.out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, "DRUM CLOCK")
        self.out.open_virtual_port("DRUM CLOCK out")
        self.random = random.Random(3)

    def send(self, *data: int) -> None:
        self.out.send_message(list(data))

    def ticks(self, count: int) -> None:
        start = time.perf_counter()
        for i in range(count):
            due = start + i * TICK + self.random.uniform(-0.002, 0.002)
            while (left := due - time.perf_counter()) > 0:
                time.sleep(min(left, 0.001))
            self.send(0xF8)

    def close(self) -> None:
        self.out.close_port()
        del self.out


def in_background(work) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
def test_clock_from_a_jack_port_gives_tempo_song_position_and_bars(jack: JackServer) -> None:
    clock = Clock()
    source = MidiClockSource("drum clock")
    try:
        wait_for(lambda: source.port is not None, 15, "the clock's input")

        clock.send(0xFA)  # start
        sending = in_background(lambda: clock.ticks(24 * 6))
        wait_for(lambda: source.ticks >= 24 * 3, 15, "three beats of clock")
        reading = source.read(0.0)
        assert reading is not None and reading.locked and reading.playing
        assert abs(reading.tempo - BPM) <= 0.5
        sending.join()

        clock.send(0xFC)  # stop
        wait_for(lambda: (r := source.read(0.0)) is not None and not r.playing, 10, "the stop")
        clock.send(0xF2, 64 & 0x7F, 64 >> 7)  # song position: 64 sixteenths = beat 16, bar 4
        clock.send(0xFB)  # continue
        in_background(lambda: clock.ticks(24 * 2 - 1)).join()
        clock.send(0xFC)
        wait_for(lambda: source.ticks >= 24 * 8 - 1 and not source.read(0.0).playing, 10, "the clock's ticks")
        stopped = source.read(0.0)
        assert stopped.beat == 16 + (24 * 2 - 2) / 24 and stopped.bar == 4
        assert abs(stopped.tempo - BPM) <= 0.5
    finally:
        source.close()
        clock.close()


@pytest.mark.slow
def test_moves_land_on_the_bars_of_the_song_position(jack: JackServer) -> None:
    clock = Clock()
    source = MidiClockSource("drum clock")
    policy = TempoPolicy(source, transition_beats=2, hold_beats=1)
    show = Show(flat_stage(3), policy=policy)
    try:
        wait_for(lambda: source.port is not None, 15, "the clock's input")
        clock.send(0xF2, 62, 0)  # sixteenth 62: beat 15.5, half way into bar 3
        clock.send(0xFB)
        sending = in_background(lambda: clock.ticks(24 * 13))
        beats: list[float] = []
        arrivals: list[int] = []
        start, last, moving = time.perf_counter(), time.perf_counter(), False
        while sending.is_alive():
            time.sleep(1 / 120)
            now = time.perf_counter()
            state = show.advance(now - last, time=now - start)
            last = now
            beats.append(policy.beat.beat if policy.beat is not None and policy.locked else math.nan)
            if moving and not state.conductor.moving:
                arrivals.append(len(beats) - 1)
            moving = state.conductor.moving
        assert len(arrivals) >= 2
        for frame in arrivals:
            bar = math.floor(beats[frame] / 4) * 4
            assert beats[frame - 1] < bar <= beats[frame], (beats[frame - 1], beats[frame])
            assert bar >= 16  # bars counted from the song position
    finally:
        source.close()
        clock.close()


def test_messages_without_ports_count_beats_from_start_and_song_position() -> None:
    class Message:
        def __init__(self, type: str, pos: int = 0) -> None:
            self.type, self.pos = type, pos

    now = [0.0]
    source = MidiClockSource("nothing", backend=lambda: None, now=lambda: now[0])
    try:
        source.receive(Message("start"))
        for i in range(48):
            now[0] = i * 0.02
            source.receive(Message("clock"))
        reading = source.read(0.0)
        assert reading is not None and reading.tempo == pytest.approx(125.0)
        assert reading.beat == pytest.approx(47 / 24)
        source.receive(Message("stop"))
        source.receive(Message("songpos", 32))
        now[0] += 0.02
        source.receive(Message("clock"))  # ticks while stopped carry the tempo, not the beat
        assert source.read(0.0).beat == 8.0
        now[0] += 10
        assert not source.read(0.0).locked  # the clock went quiet
        for _ in range(30):  # a clock at 2000 BPM is counted and ignored
            now[0] += 0.00125
            source.receive(Message("clock"))
        assert source.rejected > 0 and source.read(0.0).tempo == pytest.approx(125.0)
    finally:
        source.close()
