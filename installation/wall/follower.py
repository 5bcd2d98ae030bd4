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
from dataclasses import dataclass
from pathlib import Path

from installation.scene.clock import WallClock
from installation.scene.commands import run
from installation.scene.loader import LoadFailed, SequenceLoader
from installation.scene.parameters import OUTPUT_PARAMETERS
from installation.scene.pipeline import FramePipeline
from installation.scene.show import FrameState, Show
from installation.scene.stage import Stage, load_stage
from installation.scene.transport import Transport
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
        self._asked: Wanted | None = None
        self._asked_at = -RETRY_SECONDS
        self._ready: Stage | None = None
        """A stage loaded ahead, to be drawn from the leader's first frame of it."""
        self._said: set[tuple[str, bytes]] = set()
        self._held: FrameState | None = None
        self.ignored = 0
        """Commands that reached this follower (they belong to the leader)."""

    def step(self) -> FrameState:
        """The leader's newest frame this machine can draw, with this machine's own output (its
        corner pin and gamma), faded when the leader went silent."""
        self._take_commands()
        self._land_switch()
        received = self.link.latest
        if received is not None and received is not self.shown:
            stage = self._stage_for(received.wire)
            if stage is not None:  # loads ahead only once the sequence on show is drawn: one load at a time
                self._held, self.shown = received.wire.state(stage), received
                self._prefetch(received)
        held = self._own_output(self._held or self._waiting())
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

    def _take_commands(self) -> None:
        """This machine's output settings (``OUTPUT_PARAMETERS``) are its own to set; every other
        command belongs to the leader, and is counted and said once."""
        now = self.clock.tick()
        dt, self.time = now - self.time, now
        commands = self.commands.take()
        own = [c for c in commands if c.name == "set" and c.args and c.args[0] in OUTPUT_PARAMETERS]
        for command in own:
            run(self.show, command)
        self.show.parameters.step(dt)
        ignored = len(commands) - len(own)
        if ignored and not self.ignored:
            log.warning(
                "wall: this machine follows %s:%d and takes no command but its own corner pin and gamma; send the "
                "rest to the leader",
                *self.link.leader,
            )
        self.ignored += ignored

    def _own_output(self, state: FrameState) -> FrameState:
        """``state`` with this machine's corner pin and gamma in place of the leader's."""
        values, settings = self.show.parameters.values(), self.show.parameters.targets()
        return dataclasses.replace(
            state,
            values=dataclasses.replace(state.values, **{name: getattr(values, name) for name in OUTPUT_PARAMETERS}),
            settings=dataclasses.replace(
                state.settings, **{name: getattr(settings, name) for name in OUTPUT_PARAMETERS}
            ),
        )

    def _stage_for(self, wire: FrameWire) -> Stage | None:
        """The stage ``wire`` was drawn on, when this machine has it (the one on show, or the one
        loaded ahead because the leader announced it); asked of the loader if not."""
        if wire.fits(self.show.stage):
            return self.show.stage
        if self._ready is not None and wire.fits(self._ready):
            self.show.switch(self._ready)
            log.info("wall: drawing the leader's %s", self._ready.name)
            self._ready = None
            return self.show.stage
        self._want(Wanted(wire.name, wire.manifest_hash, wire.grid[0], wire.transport))
        return None

    def _prefetch(self, received: Received) -> None:
        """Load the sequence the leader announces next, so this tile switches at its frame."""
        upcoming = received.upcoming
        if upcoming is None:
            return
        wanted = Wanted(upcoming.name, upcoming.manifest_hash, received.wire.grid[0], received.wire.transport)
        if not wanted.fits(self.show.stage) and not (self._ready is not None and wanted.fits(self._ready)):
            self._want(wanted)

    def _want(self, wanted: Wanted) -> None:
        """Ask the loader for ``wanted`` (again after ``RETRY_SECONDS`` when it could not be had)."""
        retry = not self.stages.pending and self._now() - self._asked_at > RETRY_SECONDS
        if wanted != self._asked or retry:
            self._asked, self._asked_at = wanted, self._now()
            self.stages.request(wanted.name)

    def _prepare(self, folder: Path) -> Stage:
        """Load ``folder`` at the leader's grid and transport (on the loader's thread)."""
        asked = self._asked
        assert asked is not None
        return load_stage(folder, asked.columns, asked.transport)

    def _land_switch(self) -> None:
        """A stage loaded: ready to be drawn as soon as the leader's frames are of it (told to the
        leader, who waits for its followers before it switches); or a sentence saying why not."""
        result = self.stages.poll()
        asked = self._asked
        if result is None or asked is None:
            return
        if isinstance(result, Stage) and asked.fits(result):
            self._ready = result
            self.link.have_ready(result.manifest_hash)
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


@dataclass(frozen=True)
class Wanted:
    """A stage a follower needs: the leader's sequence, at the leader's grid and transport."""

    name: str
    manifest_hash: bytes
    columns: int
    transport: Transport

    def fits(self, stage: Stage) -> bool:
        return (
            stage.name == self.name
            and stage.manifest_hash == self.manifest_hash
            and stage.grid[0] == self.columns
            and stage.transport is self.transport
        )
