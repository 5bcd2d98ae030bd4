"""Control benchmark: OSC load on the live loop, OSC latency in frames, sound analysis cost.

    .venv/bin/python benchmarks/control.py

1. The live loop (offscreen, the demo, 640x360) runs 600 frames twice, alone and while another
   thread sends 10,000 OSC messages a second; it prints both frame times and their ratio.
2. A message sent between two frames: in how many frames is it applied (200 trials at 60 Hz)?
3. The sound analysis of one frame of audio (800 samples at 48 kHz): median time.
"""

from __future__ import annotations

import statistics
import threading
import time

from installation.render.platform import choose  # noqa: E402

choose(offscreen=True)

import numpy as np  # noqa: E402
from pythonosc.udp_client import SimpleUDPClient  # noqa: E402

from installation.app import Player  # noqa: E402
from installation.control.analysis import SoundAnalysis  # noqa: E402
from installation.control.mapping import load_mapping  # noqa: E402
from installation.control.osc import OscControl  # noqa: E402
from installation.gallery import GalleryOptions  # noqa: E402
from installation.options import PlayOptions, ShowOptions  # noqa: E402
from installation.scene.clock import WallClock  # noqa: E402
from installation.scene.pipeline import FramePipeline  # noqa: E402
from installation.scene.show import Show  # noqa: E402

FRAMES = 600
RATE = 10_000


def flood(port: int, stop: threading.Event, sent: list[int]) -> None:
    """Send RATE messages a second (fader values) until told to stop."""
    client = SimpleUDPClient("127.0.0.1", port)
    start = time.perf_counter()
    count = 0
    while not stop.is_set():
        client.send_message("/1/fader2", (count % 100) / 100)
        count += 1
        ahead = count / RATE - (time.perf_counter() - start)
        if ahead > 0:
            time.sleep(ahead)
    sent.append(count)


def loop_seconds(with_traffic: bool) -> tuple[float, int, int]:
    options = PlayOptions(
        show=ShowOptions(),
        window=(640, 360),
        vsync=False,
        frames=FRAMES,
        fixed_step=60.0,
        osc_port=0,
        http_port=None,
        audio="none",
        gallery=GalleryOptions(state_file=None),
    )
    player = Player(options)
    stop, sent = threading.Event(), []
    sender = threading.Thread(target=flood, args=(player.osc.port, stop, sent))
    if with_traffic:
        sender.start()
        time.sleep(0.2)
    begin = time.perf_counter()
    received = player.osc.counts
    player.run()
    seconds = time.perf_counter() - begin
    stop.set()
    if with_traffic:
        sender.join()
    return seconds / FRAMES, sent[0] if sent else 0, received["received"]


def frames_to_apply(trials: int = 200) -> list[int]:
    pipeline = FramePipeline(Show(ShowOptions().first_stage()), WallClock())
    osc = OscControl(load_mapping(), pipeline.commands, lambda: pipeline.latest, port=0, host="127.0.0.1")
    client = SimpleUDPClient("127.0.0.1", osc.port)
    waits = []
    try:
        for trial in range(trials):
            value = float(trial % 90)
            pipeline.step()
            client.send_message("/hue", value)
            for frame in range(1, 10):
                time.sleep(1 / 60)
                if pipeline.step().settings.hue == value:
                    waits.append(frame)
                    break
    finally:
        osc.close()
    return waits


def analysis_microseconds() -> float:
    analysis = SoundAnalysis(48000)
    block = np.random.default_rng(0).normal(0, 0.1, 800).astype(np.float32)
    times = []
    for _ in range(2000):
        begin = time.perf_counter()
        analysis.update(block, 1 / 60)
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1e6


def main() -> None:
    alone, _, _ = loop_seconds(with_traffic=False)
    loaded, sent, received = loop_seconds(with_traffic=True)
    print(
        f"live loop frame, alone: {alone * 1e3:.2f} ms; with {RATE} OSC msg/s: {loaded * 1e3:.2f} ms; ratio {loaded / alone:.2f}"
    )
    print(f"  messages sent {sent}, taken in by the loop {received} ({received / max(sent, 1):.0%})")
    waits = frames_to_apply()
    print(f"OSC value applied by the next frame: {waits.count(1)}/{len(waits)} (worst: {max(waits)} frames)")
    print(
        f"sound analysis of one frame: {analysis_microseconds():.0f} us (budget 500 us: ratio {analysis_microseconds() / 500:.2f})"
    )


if __name__ == "__main__":
    main()
