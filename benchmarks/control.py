"""Control benchmark: OSC load on the live loop, OSC latency in frames, sound analysis cost.

    .venv/bin/python benchmarks/control.py [--rounds N]

1. The live loop (offscreen, the demo, 640x360, Mesa's llvmpipe with one thread) runs 600 frames
   alone and while another process sends it 10,000 OSC messages a second (a fader, as a tablet or
   a hostile neighbour would: not from the show's process). The show is on CPU 0, the sender on
   CPU 1, so the ratio is what hearing the flood costs the show's process, not what sending it
   costs. The runs alternate for N rounds (default 3); each figure is the median of its rounds,
   timed from the end of the first frame to the end of the last (``liveloop.FrameClock``).
2. A message sent between two frames: in how many frames is it applied (200 trials at 60 Hz)?
3. The sound analysis of one frame of audio (800 samples at 48 kHz): median time.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time

os.environ["LP_NUM_THREADS"] = "1"  # before Mesa loads: the show has one core

from installation.render.platform import choose  # noqa: E402

choose(offscreen=True)

import numpy as np  # noqa: E402
from liveloop import OTHER_CPU as SENDER_CPU  # noqa: E402
from liveloop import SHOW_CPU, FrameClock, demo_player, in_turns, rounds_from_command_line  # noqa: E402
from pythonosc.udp_client import SimpleUDPClient  # noqa: E402

from installation.control.analysis import SoundAnalysis  # noqa: E402
from installation.control.mapping import load_mapping  # noqa: E402
from installation.control.osc import OscControl  # noqa: E402
from installation.options import ShowOptions  # noqa: E402
from installation.scene.clock import WallClock  # noqa: E402
from installation.scene.pipeline import FramePipeline  # noqa: E402
from installation.scene.show import Show  # noqa: E402

RATE = 10_000


def flood(port: int, ready, stop, sent) -> None:
    """Another process: send RATE messages a second (fader values) until told to stop."""
    os.sched_setaffinity(0, SENDER_CPU)
    client = SimpleUDPClient("127.0.0.1", port)
    ready.set()
    start = time.perf_counter()
    count = 0
    while not stop.is_set():
        client.send_message("/1/fader2", (count % 100) / 100)
        count += 1
        ahead = count / RATE - (time.perf_counter() - start)
        if ahead > 0:
            time.sleep(ahead)
    sent.put(count)


def loop_run(with_traffic: bool) -> tuple[float, float, int, int]:
    """One run: the mean frame's wall and CPU seconds, messages sent and taken in."""
    player = demo_player(osc_port=0, http_port=None)
    spawn = multiprocessing.get_context("spawn")
    ready, stop, sent = spawn.Event(), spawn.Event(), spawn.SimpleQueue()
    sender = spawn.Process(target=flood, args=(player.osc.port, ready, stop, sent))
    if with_traffic:
        sender.start()
        ready.wait(60)
        time.sleep(0.2)
    received = player.osc.counts
    frames = FrameClock(player)
    player.run()
    stop.set()
    count = 0
    if with_traffic:
        count = sent.get()
        sender.join()
    times = frames.frame_seconds()
    return statistics.fmean(times), frames.spent()[0] / len(times), count, received["received"]


def loop_ratio(rounds: int) -> None:
    turns = in_turns((False, True), rounds, loop_run)
    alone, loaded = turns[False], turns[True]
    frame_alone, frame_loaded = (statistics.median(run[0] for run in runs) for runs in (alone, loaded))
    cpu_alone, cpu_loaded = (statistics.median(run[1] for run in runs) for runs in (alone, loaded))
    rounds_said = ", ".join(f"{b[0] / a[0]:.2f}" for a, b in zip(alone, loaded, strict=True))
    print(
        f"live loop frame, alone: {frame_alone * 1e3:.2f} ms; with {RATE} OSC msg/s: {frame_loaded * 1e3:.2f} ms; "
        f"ratio {frame_loaded / frame_alone:.3f} (rounds {rounds_said}); show process CPU a frame "
        f"{cpu_alone * 1e3:.2f} -> {cpu_loaded * 1e3:.2f} ms"
    )
    _, _, sent, received = loaded[-1]
    print(f"  last round: messages sent {sent}, heard by the show {received} ({received / max(sent, 1):.0%})")


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
    rounds = rounds_from_command_line(__doc__.splitlines()[0], "control.py")
    os.sched_setaffinity(0, SHOW_CPU)
    loop_ratio(rounds)
    waits = frames_to_apply()
    print(f"OSC value applied by the next frame: {waits.count(1)}/{len(waits)} (worst: {max(waits)} frames)")
    print(
        f"sound analysis of one frame: {analysis_microseconds():.0f} us (budget 500 us: ratio {analysis_microseconds() / 500:.2f})"
    )


if __name__ == "__main__":
    main()
