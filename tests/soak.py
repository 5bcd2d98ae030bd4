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

from installation.app import Player
from installation.control.analysis import SoundAnalysis
from installation.gallery import GalleryOptions, resident_megabytes
from installation.options import PlayOptions, ShowOptions
from installation.scene.modulation import SoundFeatures


@dataclass(frozen=True)
class Sample:
    frame: int
    megabytes: float
    threads: int
    open_files: int


class ToneSound:
    """A sound card that never ends: a pulsing 220 Hz tone, analysed as a live input is."""

    sample_rate = 48000.0

    def __init__(self) -> None:
        self._analysis = SoundAnalysis(self.sample_rate)

    def listen(self, start: float, stop: float) -> SoundFeatures:
        t = np.arange(round(start * self.sample_rate), round(stop * self.sample_rate)) / self.sample_rate
        tone = 0.4 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 2 * t) > 0)
        return self._analysis.update(tone.astype(np.float32), stop - start)

    def describe(self) -> dict[str, object]:
        return {"input": "tone"}

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
        show=ShowOptions(library, parameters={"hold": 0.2, "duration": 0.3}),
        window=(96, 54),
        vsync=False,
        fixed_step=60.0,
        frames=frames,
        osc_port=0,
        http_port=None,
        audio="none",
        gallery=GalleryOptions(watchdog=None),
    )
    player = Player(options)
    player.pipeline.sound = ToneSound()
    stop = threading.Event()
    sender = threading.Thread(target=_traffic, args=(player.osc.port, stop), daemon=True)
    sender.start()
    taken: list[Sample] = []
    every = max(frames // samples, 1)
    chores = player.gallery.after_frame

    def sampled(state, frame_seconds: float) -> None:
        chores(state, frame_seconds)
        if player.frames % every == 0:
            taken.append(
                Sample(player.frames, resident_megabytes(), threading.active_count(), len(os.listdir("/proc/self/fd")))
            )

    player.gallery.after_frame = sampled
    try:
        player.run()
    finally:
        stop.set()
        sender.join()
    return taken


def second_half_growth(samples: list[Sample]) -> float:
    """Memory growth in MB from the middle sample to the last.

    The rule: caches, pools and the C heap reach their high-water mark in the first half of a run
    (the first switches, the first transitions of every pair); a leak keeps growing in the
    second half, in proportion to the frames drawn.
    """
    middle = samples[len(samples) // 2]
    return max(sample.megabytes for sample in samples[len(samples) // 2 :]) - middle.megabytes
