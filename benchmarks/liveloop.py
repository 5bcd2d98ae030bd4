"""What the live-loop benchmarks share: timing a Player's frames, and the CPU time they took.

Imported by ``network.py`` and ``control.py`` (run from the repository root as
``.venv/bin/python benchmarks/NAME.py``, which puts this folder on the path).
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import TypeVar

FRAMES = 600
SHOW_CPU, OTHER_CPU = {0}, {1}
"""The show's core, and the other: the network's, or the sender's."""
Condition = TypeVar("Condition", bound=Hashable | None)
Result = TypeVar("Result")


def rounds_from_command_line(description: str, script: str) -> int:
    """``--rounds N`` (default 3); these benchmarks need two cores, one of them the show's."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rounds", type=int, default=3, help="rounds in which the runs take turns (default 3)")
    rounds = parser.parse_args().rounds
    if len(os.sched_getaffinity(0)) < 2:
        sys.exit(f"{script}: needs two CPUs")
    return rounds


def in_turns(
    conditions: Sequence[Condition], rounds: int, run: Callable[[Condition], Result]
) -> dict[Condition, list[Result]]:
    """Each condition's runs: the runs of a round take turns, each round starting one later, so a
    slow drift of the machine favours none of them."""
    runs: dict[Condition, list[Result]] = {condition: [] for condition in conditions}
    for round_ in range(rounds):
        turn = round_ % len(conditions)
        for condition in (*conditions[turn:], *conditions[:turn]):
            runs[condition].append(run(condition))
    return runs


def demo_player(osc_port: int | None, http_port: int | None, window: tuple[int, int] = (640, 360), **options):
    """The live loop these benchmarks time: the demo offscreen at ``window`` (640x360), FRAMES
    frames at a fixed step, no sound, no saved state, and any other ``options`` of play (imported
    here: Mesa's settings come first)."""
    from installation.app import Player
    from installation.gallery import GalleryOptions
    from installation.options import PlayOptions, ShowOptions

    play = PlayOptions(
        show=ShowOptions(),
        window=window,
        vsync=False,
        frames=options.pop("frames", FRAMES),
        fixed_step=60.0,
        osc_port=osc_port,
        http_port=http_port,
        audio="none",
        gallery=GalleryOptions(state_file=None),
        **options,
    )
    return Player(play)


class FrameClock:
    """When each frame of ``player`` ended, read at the gallery's ``after_frame``, and the CPU times
    at the end of the first frame and of the last (the FRAMES-th). Timed from the end of the first
    frame: not the start-up, not the first frame's shader and buffer set-up, and not the closing,
    where a web process's goodbye (zeroconf's, hundreds of milliseconds) would be counted as frame
    time. The other core's busy share is read alongside."""

    def __init__(self, player) -> None:
        self._player = player
        self._after_frame = player.gallery.after_frame
        found = [thread for thread in threading.enumerate() if thread.name == "web-link"]
        self._link = Path(f"/proc/self/task/{found[0].native_id}/schedstat") if found else None
        self._ends: list[float] = []
        self._readings: list[tuple[float, float, int, int]] = []
        player.gallery.after_frame = self._mark

    def _mark(self, *args) -> None:
        self._after_frame(*args)
        self._ends.append(time.perf_counter())
        if self._player.frames in (1, FRAMES):
            used = resource.getrusage(resource.RUSAGE_SELF)
            link = int(self._link.read_text().split()[0]) / 1e9 if self._link else 0.0  # nanoseconds on a CPU
            self._readings.append((used.ru_utime + used.ru_stime, link, *core_times(min(OTHER_CPU))))

    def frame_seconds(self) -> list[float]:
        """Each measured frame's wall time."""
        return [later - earlier for earlier, later in itertools.pairwise(self._ends)]

    def spent(self) -> tuple[float, float, float]:
        """Over the measured frames: the show process's CPU seconds, its web link thread's (0 without
        a web server), and the share of the time the other core was busy (0 to 1)."""
        (cpu_first, link_first, busy_first, all_first), (cpu_last, link_last, busy_last, all_last) = self._readings
        return cpu_last - cpu_first, link_last - link_first, (busy_last - busy_first) / max(all_last - all_first, 1)


def core_times(cpu: int) -> tuple[int, int]:
    """A core's busy and total time so far, in clock ticks (``/proc/stat``)."""
    for line in Path("/proc/stat").read_text().splitlines():
        name, *ticks = line.split()
        if name == f"cpu{cpu}":
            user, nice, system, idle, waiting, irq, softirq, stolen = (int(tick) for tick in ticks[:8])
            busy = user + nice + system + irq + softirq  # guest time is inside user and nice already
            return busy, busy + idle + waiting + stolen  # time the hypervisor took is not this core's work
    return 0, 1
