"""The wall's leader: its frame time with 8 followers against none, the frame packet's size, and how
many frames late the packets reach the followers.

Run: ``.venv/bin/python benchmarks/wall.py [--rounds 3] [--seconds 300]``. The leader is the demo
player on one core (640x360, as the other live-loop benchmarks); the 8 followers are links in one
process on the other core, each recording when every frame arrived. The lag is read against the
leader's own record of when it sent each frame (one machine, one monotonic clock), over
``--seconds`` of a leader paced at 60 fps as a show is; it is the network's part of a follower's
lag (a follower then draws the newest frame, as the leader draws it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from liveloop import FRAMES, OTHER_CPU, SHOW_CPU, FrameClock, demo_player, in_turns

FOLLOWERS = 8
SEND_SECONDS: list[float] = []


def follow(port: int, seconds: float, out: Path) -> None:
    """The followers' process: ``FOLLOWERS`` links to the leader on ``port``, arrivals to ``out``."""
    from installation.wall.link import LeaderLink

    arrivals: list[dict[int, float]] = [{} for _ in range(FOLLOWERS)]
    links = [LeaderLink(("127.0.0.1", port), (index, 0)) for index in range(FOLLOWERS)]
    for link, seen in zip(links, arrivals, strict=True):
        link.listeners.append(lambda received, seen=seen: seen.__setitem__(received.wire.frame, received.arrived))
    time.sleep(seconds)
    for link in links:
        link.close()
    out.write_text(json.dumps([{str(k): v for k, v in seen.items()} for seen in arrivals]))


def start_followers(port: int, seconds: float, out: Path) -> subprocess.Popen:
    code = f"import sys; sys.path.insert(0, 'benchmarks'); from wall import follow; from pathlib import Path; follow({port}, {seconds}, Path({str(out)!r}))"
    process = subprocess.Popen([sys.executable, "-c", code])
    os.sched_setaffinity(process.pid, OTHER_CPU)
    return process


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def leader_frames(followed: bool) -> float:
    """The leader's mean frame time over FRAMES frames, with the followers on or not (ms)."""
    from installation.options import WallOptions

    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        followers = start_followers(port, 60.0, Path(folder) / "arrivals.json") if followed else None
        player = demo_player(None, None, wall=WallOptions(lead=port) if followed else WallOptions())
        if followed:
            while len(player.leader.followers) < FOLLOWERS:  # they join once it sends: wait for all
                player.leader.send(player.pipeline.step())
                time.sleep(0.01)
        if followed:  # the leader's own work a frame: encode, read the hellos, the sends
            send = player.loop.heralds[0]

            def timed(state, send=send) -> None:
                started = time.perf_counter()
                send(state)
                SEND_SECONDS.append(time.perf_counter() - started)

            player.loop.heralds[0] = timed
        clock = FrameClock(player)
        player.run()
        if followers is not None:
            followers.kill()
        frames = clock.frame_seconds()
    return statistics.fmean(frames) * 1e3


def lag(seconds: float) -> tuple[int, list[float]]:
    """The packet's size and, for every frame a follower got, how many 60 fps frames it took."""
    from installation.options import WallOptions
    from installation.scene.clock import WallClock
    from installation.wall.link import frame_packet

    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "arrivals.json"
        followers = start_followers(port, seconds + 5.0, out)
        player = demo_player(None, None, wall=WallOptions(lead=port))
        player.options = player.options.__class__(**{**player.options.__dict__, "frames": int(seconds * 60)})
        player.pipeline.clock = WallClock()
        sent: dict[int, float] = {}
        player.loop.heralds.insert(0, lambda state: sent.__setitem__(state.frame, time.monotonic()))
        paced = player.gallery.after_frame
        deadline = [time.monotonic()]

        def sixty(state, seconds_a_frame) -> None:  # a show's pace: a frame every 1/60 s at most
            paced(state, seconds_a_frame)
            deadline[0] += 1 / 60
            time.sleep(max(0.0, deadline[0] - time.monotonic()))

        player.gallery.after_frame = sixty
        size = len(frame_packet(bytes(8), player.pipeline.step()))
        player.run()
        followers.wait()
        arrivals = json.loads(out.read_text())
    lags = [
        (arrived - sent[int(frame)]) * 60 for seen in arrivals for frame, arrived in seen.items() if int(frame) in sent
    ]
    return size, lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=300.0, help="how long the lag is measured (default 300)")
    arguments = parser.parse_args()
    os.sched_setaffinity(0, SHOW_CPU)
    os.environ["LP_NUM_THREADS"] = "1"  # before Mesa loads: the leader has one core, the followers the other
    from installation.render.platform import choose

    choose(offscreen=True)
    runs = in_turns([False, True], arguments.rounds, leader_frames)
    alone, followed = statistics.median(runs[False]), statistics.median(runs[True])
    print(
        f"leader frame time, {FRAMES} frames, median of {arguments.rounds} rounds: alone {alone:.2f} ms, "
        f"with {FOLLOWERS} followers {followed:.2f} ms: ratio {followed / alone:.3f} (goal 1.02 or better)"
    )
    sending = statistics.median(SEND_SECONDS)
    print(
        f"the leader's own work a frame (encode, hellos, {FOLLOWERS} sends): median {sending * 1e6:.0f} us, "
        f"{sending * 1e3 / alone:.1%} of a frame alone"
    )
    size, lags = lag(arguments.seconds)
    ordered = sorted(lags)
    print(f"frame packet: {size} bytes")
    print(
        f"lag over {arguments.seconds:g} s at 60 fps, {len(lags)} frames at {FOLLOWERS} followers: median "
        f"{statistics.median(ordered):.3f} frames, 99th percentile {ordered[int(len(ordered) * 0.99)]:.3f}, "
        f"worst {ordered[-1]:.3f}"
    )


if __name__ == "__main__":
    main()
