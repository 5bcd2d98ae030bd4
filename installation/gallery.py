"""The chores of a show that runs for weeks, apart from the loop that draws it.

Opening hours, a heartbeat in the log, the state saved every few seconds (so a restart resumes on
the same sequence, keyframe and parameters), the next sequence of a playlist once a pass is over,
and a watchdog that ends a stalled process so the service restarts it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from installation.flags import Bounds, flag, zero_is_off
from installation.scene.pipeline import FramePipeline
from installation.scene.playlist import Playlist
from installation.scene.schedule import Schedule, parse_schedule
from installation.scene.show import FrameState
from installation.state import SAVE_SECONDS, SavedState, default_state_file, save_state
from installation.watchdog import SHORTEST_TIMEOUT, Watchdog

log = logging.getLogger(__name__)
_GALLERY = "gallery"


def _hours(text: str | None) -> Schedule | None:
    return parse_schedule(text) if text else None


def _state_file(text: str) -> Path | None:
    return {"auto": default_state_file(), "none": None}.get(text, Path(text))


@dataclass(frozen=True)
class GalleryOptions:
    """The chores' options, ``play``'s "gallery" group."""

    schedule: Schedule | None = flag(
        "--open",
        "daily opening hours; outside them the screen is black or dimmed",
        group=_GALLERY,
        commands=("play",),
        convert=_hours,
        metavar="HH:MM-HH:MM",
    )
    closed: str = flag(
        "--closed",
        "the look outside opening hours (default %(default)s)",
        "black",
        group=_GALLERY,
        commands=("play",),
        choices=["black", "dim"],
    )
    state_file: Path | None = flag(
        "--state",
        "where the keyframe and parameters are saved every 5 s and restored at start (default "
        "~/.local/state/metamorph/state.json; none: off)",
        group=_GALLERY,
        commands=("play",),
        convert=_state_file,
        given="auto",
        metavar="FILE",
    )
    heartbeat: float = flag(
        "--heartbeat",
        "a log line with fps, memory and keyframe this often (default %(default)g)",
        60.0,
        group=_GALLERY,
        commands=("play",),
        type=Bounds(1.0, 86_400.0, 60.0),
        metavar="SECONDS",
    )
    watchdog: float | None = flag(
        "--watchdog",
        "exit with code 3 when no frame was drawn for this long, so the service restarts (default %(default)g; 0: off)",
        15.0,
        group=_GALLERY,
        commands=("play",),
        convert=zero_is_off,
        type=Bounds(SHORTEST_TIMEOUT, 3600.0, 15.0, off=0.0),
        metavar="SECONDS",
    )


class Gallery:
    """Runs the chores once per frame through ``after_frame``; each is cheap when not due."""

    def __init__(
        self,
        options: GalleryOptions,
        pipeline: FramePipeline,
        playlist: Playlist | None = None,
        describe: Callable[[], str] = lambda: "",
        clock: Callable[[], float] = time.monotonic,
        held: Callable[[], bool] = lambda: False,
    ) -> None:
        self.options = options
        self.held = held
        """Whether the playlist waits (a visitor's wish is on screen)."""
        self.pipeline = pipeline
        self.playlist = playlist
        self._describe = describe
        self._clock = clock
        now = clock()
        self._next_heartbeat = now + options.heartbeat
        self._next_save = now + SAVE_SECONDS
        self._stage = pipeline.show.stage
        self._pass_start = 0.0
        """The show time at which the current sequence's pass began."""
        self._asked: Path | None = None
        self.watchdog = Watchdog(options.watchdog) if options.watchdog else None

    def closed(self) -> str | None:
        """The look outside opening hours ("black" or "dim"), None while open."""
        schedule = self.options.schedule
        if schedule is None or schedule.is_open(datetime.now().time()):
            return None
        return self.options.closed

    def after_frame(self, state: FrameState, frame_seconds: float) -> None:
        if self.watchdog is not None:
            self.watchdog.beat()
        now = self._clock()
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + self.options.heartbeat
            self._heartbeat(state, frame_seconds)
        if now >= self._next_save:
            self._next_save = now + SAVE_SECONDS
            self.save(state)
        self._follow_playlist(state)

    def close(self, state: FrameState | None) -> None:
        if state is not None:
            self.save(state)
        if self.watchdog is not None:
            self.watchdog.stop()

    def save(self, state: FrameState) -> None:
        """Save where the show is heading, so a restart resumes there."""
        if self.options.state_file is None:
            return
        conductor = state.conductor
        keyframe = conductor.index if conductor.target is None else conductor.target
        save_state(self.options.state_file, SavedState(state.stage.name, keyframe, state.settings.as_dict()))

    def _heartbeat(self, state: FrameState, frame_seconds: float) -> None:
        log.info(
            "heartbeat: %.1f fps, %.0f MB, %s keyframe %d/%d%s",
            1.0 / max(frame_seconds, 1e-6),
            resident_megabytes(),
            state.stage.name,
            state.index_a + 1,
            state.stage.count,
            self._describe(),
        )

    def _follow_playlist(self, state: FrameState) -> None:
        """After one pass of a sequence, ask for the next of the playlist (loaded in the background);
        when the one asked for could not be loaded, ask for the one after it at once."""
        if state.stage is not self._stage:
            self._stage, self._pass_start, self._asked = state.stage, state.time, None
        playlist = self.playlist
        if self.held():  # the pass of the sequence the show comes back to starts afresh
            self._pass_start = state.time
            return
        if playlist is None or self.pipeline.switching:
            return
        failed = self._asked is not None  # asked, loaded, and still on the same stage
        if not failed:  # a failed item moves on at once, without reading the folder again
            if state.time - self._pass_start < self.pipeline.show.pass_seconds():
                return
            _rescan(playlist)
        following = playlist.after(self._asked or state.stage.sequence.folder)
        self._pass_start = state.time
        self._asked = None if following == state.stage.sequence.folder else following
        if self._asked is not None:
            self.pipeline.request_sequence(self._asked)


def _rescan(playlist: Playlist) -> None:
    """Read the playlist's folder again; one that cannot be read keeps the last list."""
    try:
        playlist.rescan()
    except OSError as error:
        log.warning("playlist: %s cannot be read (%s); the current sequence goes on", playlist.folder, error.strerror)


def resident_megabytes() -> float:
    """The process's resident memory now (Linux), else its peak."""
    try:
        with open("/proc/self/statm", encoding="ascii") as stream:
            pages = int(stream.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
