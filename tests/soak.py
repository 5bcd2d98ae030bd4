"""A long run of the live loop with OSC traffic and a fake sound card, sampling what could leak.

Used by tests/test_endurance.py (20k frames) and benchmarks/soak.py (an hour of frames).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pythonosc.udp_client import SimpleUDPClient

from installation.app import Player, PlayOptions, resident_megabytes
from installation.control.audio import LiveInput
from installation.scene.show import ShowOptions


@dataclass(frozen=True)
class Sample:
    frame: int
    megabytes: float
    threads: int
    open_files: int


class ToneStream:
    """A sound card that never ends: a pulsing 220 Hz tone, one frame of it per read."""

    sample_rate = 48000.0

    def __init__(self) -> None:
        self._phase = 0

    def take(self) -> np.ndarray:
        t = (np.arange(800) + self._phase) / self.sample_rate
        self._phase += 800
        return (0.4 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 2 * t) > 0)).astype(np.float32)

    def close(self) -> None:
        pass


def _traffic(port: int, stop: threading.Event) -> None:
    client = SimpleUDPClient("127.0.0.1", port)
    count = 0
    while not stop.is_set():
        client.send_message("/1/fader2", (count % 100) / 100)
        client.send_message("/diffusion", (count % 50) / 50)
        if count % 200 == 0:
            client.send_message("/next", [])
        count += 1
        time.sleep(0.002)


def soak(library: Path, frames: int, samples: int = 20) -> list[Sample]:
    """Run ``frames`` frames of a playlist (switching sequences every pass) and sample resources."""
    options = PlayOptions(
        show=ShowOptions(library, parameters={"hold": 0.2, "duration": 0.3}), window=(96, 54), vsync=False,
        fixed_step=True, frames=frames, osc_port=0,
    )
    player = Player(options)
    player.sound = LiveInput(ToneStream, "fake sound card")
    stop = threading.Event()
    sender = threading.Thread(target=_traffic, args=(player.osc.port, stop), daemon=True)
    sender.start()
    taken: list[Sample] = []
    every = max(frames // samples, 1)
    chores = player._chores

    def sampled(dt: float) -> None:
        chores(dt)
        if player.frames % every == 0:
            taken.append(Sample(player.frames, resident_megabytes(), threading.active_count(), len(os.listdir("/proc/self/fd"))))

    player._chores = sampled
    try:
        player.run()
    finally:
        stop.set()
        sender.join()
    return taken


def growth(samples: list[Sample]) -> tuple[float, float]:
    """Memory growth in MB over the samples, without their largest single step; and that step.

    A leak grows a little at every sample; a one-time allocation (a cache or pool reaching its
    high-water mark) is a single step. Seen here: once per process, at a random moment, the
    C heap grows by about 38 MB in one step, with one sequence or several, with OSC or without,
    and stays flat afterwards (checked to 40k frames).
    """
    largest = max((b.megabytes - a.megabytes for a, b in zip(samples, samples[1:])), default=0.0)
    step = max(largest, 0.0)
    return samples[-1].megabytes - samples[0].megabytes - step, step
