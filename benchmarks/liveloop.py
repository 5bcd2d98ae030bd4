"""What the live-loop benchmarks share: timing a Player's frames, and the CPU time they took.

Imported by ``network.py`` and ``control.py`` (run from the repository root as
``.venv/bin/python benchmarks/NAME.py``, which puts this folder on the path).
"""

from __future__ import annotations

import itertools
import resource
import threading
import time
from pathlib import Path


class FrameClock:
    """When each frame of ``player`` ended, read at the gallery's ``after_frame``, and the CPU times
    at the end of the first frame and of the last (``frames``, the run's length). Timed from the end
    of the first frame: not the start-up, not the first frame's shader and buffer set-up, and not
    the closing, where a web process's goodbye (zeroconf's, hundreds of milliseconds) would be
    counted as frame time. ``neighbour_cpu``: the core whose busy share is read alongside."""

    def __init__(self, player, frames: int, neighbour_cpu: int) -> None:
        self._player = player
        self._frames = frames
        self._neighbour = neighbour_cpu
        self._after_frame = player.gallery.after_frame
        found = [thread for thread in threading.enumerate() if thread.name == "web-link"]
        self._link = Path(f"/proc/self/task/{found[0].native_id}/schedstat") if found else None
        self._ends: list[float] = []
        self._readings: list[tuple[float, float, int, int]] = []
        player.gallery.after_frame = self._mark

    def _mark(self, *args) -> None:
        self._after_frame(*args)
        self._ends.append(time.perf_counter())
        if self._player.frames in (1, self._frames):
            used = resource.getrusage(resource.RUSAGE_SELF)
            link = int(self._link.read_text().split()[0]) / 1e9 if self._link else 0.0  # nanoseconds on a CPU
            self._readings.append((used.ru_utime + used.ru_stime, link, *core_times(self._neighbour)))

    def frame_seconds(self) -> list[float]:
        """Each measured frame's wall time."""
        return [later - earlier for earlier, later in itertools.pairwise(self._ends)]

    def spent(self) -> tuple[float, float, float]:
        """Over the measured frames: the show process's CPU seconds, its web link thread's (0 without
        a web server), and the share of the time the neighbour core was busy (0 to 1)."""
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
