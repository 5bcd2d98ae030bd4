"""A follower's frames: the leader's newest state, drawn on this machine's stage.

A follower takes no command, hears no sound and runs no schedule: its frames are its leader's.
It draws each state it receives on the same keyframes (loaded from its own keyframes folder, at
the leader's grid and transport, and checked by the manifest's hash), so its tile is the
leader's frame, pixel for pixel. Between two packets it holds the last frame; when the leader is
silent for ``timeout`` seconds it fades to black, and it takes the leader's frames again as soon
as they come back (the same run or a new one).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path

from installation.scene.clock import WallClock
from installation.scene.loader import LoadFailed, SequenceLoader
from installation.scene.pipeline import FramePipeline
from installation.scene.show import FrameState, Show
from installation.scene.stage import Stage, load_stage
from installation.scene.wire import FrameWire
from installation.wall.link import LeaderLink, Received

log = logging.getLogger(__name__)

FADE_SECONDS = 2.0
"""How long a follower that lost its leader takes to fade to black, after its timeout."""
RETRY_SECONDS = 10.0
"""How often a sequence this machine could not match is looked for again (it may be copied in)."""


class FollowerPipeline(FramePipeline):
    """Frame states from the leader (``link``), on stages loaded from ``library``."""

    def __init__(
        self,
        show: Show,
        link: LeaderLink,
        library: Path | None,
        timeout: float,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stages = SequenceLoader(library, self._prepare)
        """Loads the stage the leader plays, at its grid and transport."""
        super().__init__(show, WallClock(), loader=self.stages)
        self.link = link
        self.timeout = timeout
        self._now = now
        self._started = now()
        self.shown: Received | None = None
        """The leader's frame drawn last."""
        self._asked: FrameWire | None = None
        self._asked_at = 0.0
        self._said: set[tuple[str, bytes]] = set()
        self._held: FrameState | None = None
        self.ignored = 0
        """Commands that reached this follower (they belong to the leader)."""

    def step(self) -> FrameState:
        """The leader's newest frame this machine can draw, faded when the leader went silent."""
        self._ignore(len(self.commands.take()))
        self._land_switch()
        received = self.link.latest
        if received is not None and received is not self.shown:
            stage = self._stage_for(received.wire)
            if stage is not None:
                self._held, self.shown = received.wire.state(stage), received
        held = self._held or self._waiting()
        fade = self._silence() - self.timeout
        if fade > 0.0:
            values = held.values
            blackout = max(values.blackout, min(fade / FADE_SECONDS, 1.0))
            held = dataclasses.replace(held, values=dataclasses.replace(values, blackout=blackout))
        self.latest = held
        return held

    def describe(self) -> dict[str, object]:
        """What the follower tells in ``/status``: whom it follows, the frame it shows, its lag."""
        counts = self.link.counts
        shown = self.shown
        return {
            "role": "follower",
            "leader": "{}:{}".format(*self.link.leader),
            "leader_frame": shown.wire.frame if shown else None,
            "lag_ms": round((self._now() - shown.arrived) * 1e3, 2) if shown else None,
            "silent_s": round(self._silence(), 2),
            "received": counts.received,
            "stale": counts.stale,
            "refused": counts.refused,
            "foreign": counts.foreign,
            "commands_ignored": self.ignored,
        }

    def _silence(self) -> float:
        """Seconds since the leader's last frame reached this machine (or since the start)."""
        latest = self.link.latest
        return self._now() - (latest.arrived if latest is not None else self._started)

    def _waiting(self) -> FrameState:
        """Black on this machine's first stage, until the leader's first frame can be drawn."""
        state = self.show.advance(0.0)
        return dataclasses.replace(state, values=dataclasses.replace(state.values, blackout=1.0))

    def _ignore(self, count: int) -> None:
        if count and not self.ignored:
            log.warning(
                "wall: this machine follows %s:%d and takes no command; send it to the leader", *self.link.leader
            )
        self.ignored += count

    def _stage_for(self, wire: FrameWire) -> Stage | None:
        """The stage ``wire`` was drawn on, when this machine has it; asked of the loader if not."""
        if wire.fits(self.show.stage):
            return self.show.stage
        asked = self._asked
        same = asked is not None and (asked.name, asked.manifest_hash, asked.grid, asked.transport) == (
            wire.name,
            wire.manifest_hash,
            wire.grid,
            wire.transport,
        )
        if not same or (not self.stages.pending and self._now() - self._asked_at > RETRY_SECONDS):
            self._asked, self._asked_at = wire, self._now()
            self.stages.request(wire.name)
        return None

    def _prepare(self, folder: Path) -> Stage:
        """Load ``folder`` at the leader's grid and transport (on the loader's thread)."""
        asked = self._asked
        assert asked is not None
        return load_stage(folder, asked.grid[0], asked.transport)

    def _land_switch(self) -> None:
        result = self.stages.poll()
        asked = self._asked
        if result is None or asked is None:
            return
        if isinstance(result, Stage) and asked.fits(result):
            self.show.switch(result)
            log.info("wall: drawing the leader's %s", result.name)
            return
        key = (asked.name, asked.manifest_hash)
        if key in self._said:
            return
        self._said.add(key)
        if isinstance(result, LoadFailed):
            reason = result.reason
        else:
            reason = f"{result.sequence.folder} has other keyframes (its manifest's hash differs)"
        log.warning(
            "wall: the leader plays %r and this machine cannot draw it (%s); copy the leader's keyframes folder "
            "here; holding the last frame",
            asked.name,
            reason,
        )
