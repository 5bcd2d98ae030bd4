"""The frame pipeline: (show, clock, sound, commands) -> one immutable ``FrameState`` per step.

``metamorph play`` and ``metamorph capture`` are thin drivers around the same ``step``: the
player adds a window, keys and an on-screen display, capture adds sinks. A step

1. reads the clock (the first frame is at time 0, whatever the clock),
2. applies the commands that arrived since the last frame, in arrival order,
3. switches to a sequence that finished loading in the background,
4. listens to the sound heard since the last frame,
5. advances the show and returns the frame's state.

So the same clock, sound and commands give the same frames, live or offline.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from installation.scene.clock import Clock
from installation.scene.commands import COMMANDS, Command, CommandQueue, run
from installation.scene.loader import LoadFailed, SequenceLoader
from installation.scene.modulation import SILENCE, SoundFeatures
from installation.scene.show import FrameState, Show
from installation.scene.stage import Stage

log = logging.getLogger(__name__)
_DEFERRED_LIMIT = 1000


class SoundSource(Protocol):
    """What the show hears: the features of the sound between two show times."""

    def listen(self, start: float, stop: float) -> SoundFeatures: ...

    def describe(self) -> dict[str, object]:
        """What the input is doing, for status answers (read from other threads)."""
        ...

    def close(self) -> None: ...


class NoSound:
    """The silent source: no input, or sound turned off."""

    def listen(self, start: float, stop: float) -> SoundFeatures:
        return SILENCE

    def describe(self) -> dict[str, object]:
        return {"input": "none"}

    def close(self) -> None:
        pass


class FramePipeline:
    """Turns the show's inputs into frame states, one per ``step``, on the render thread."""

    def __init__(
        self,
        show: Show,
        clock: Clock,
        sound: SoundSource | None = None,
        commands: CommandQueue | None = None,
        loader: SequenceLoader | None = None,
        closed: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.show = show
        self.clock = clock
        self.sound = sound or NoSound()
        self.commands = commands or CommandQueue()
        self.loader = loader
        self.closed = closed
        """The look outside opening hours, asked once per frame (the gallery sets it)."""
        self._deferred: deque[Command] = deque(maxlen=_DEFERRED_LIMIT)
        self.switch_when: Callable[[Stage], bool] = lambda stage: True
        """Whether a loaded stage may be shown from this frame on (a wall's leader waits until its
        followers have it too, so that the whole wall switches at one frame)."""
        self._loaded: Stage | None = None
        self.time = 0.0
        self.latest: FrameState | None = None
        """The last state made: read by other threads (status answers), never changed."""

    def step(self) -> FrameState:
        """The next frame's state."""
        now = self.clock.tick()
        dt, start = (now - self.time, self.time) if self.latest is not None else (0.0, now)
        self._apply(self.commands.take())
        self._land_switch()
        sound = self.sound.listen(start, now)
        self.time = now
        frame = 0 if self.latest is None else self.latest.frame + 1
        self.latest = self.show.advance(dt, sound, self.closed(), now, frame)
        return self.latest

    def request_sequence(self, wanted: str | Path) -> None:
        """Load a sequence in the background and switch to it when it is ready."""
        if self.loader is None:
            log.warning("cannot switch to %s here: this show has no sequence folder", wanted)
        elif not self.loader.pending and str(wanted) in (self.show.name, str(self.show.stage.sequence.folder)):
            log.debug("%s is playing already", wanted)
        else:
            self.loader.request(wanted)

    @property
    def switching(self) -> bool:
        """A sequence is loading (or loaded and waiting to be shown); commands on keyframes wait for it."""
        return self._loaded is not None or (self.loader is not None and self.loader.pending)

    def _apply(self, commands: list[Command]) -> None:
        switching = self.switching  # read once a batch: only a request in the batch changes it
        for command in commands:
            if switching and COMMANDS[command.name].waits_for_switch:
                if len(self._deferred) == self._deferred.maxlen:
                    self.commands.dropped += 1  # the oldest waiting command falls out
                self._deferred.append(command)
                continue
            run(self.show, command)
            if self.show.requested is not None:
                wanted, self.show.requested = self.show.requested, None
                self.request_sequence(wanted)
                switching = self.switching

    def _land_switch(self) -> None:
        result = self.loader.poll() if self.loader is not None else None
        if isinstance(result, Stage):
            self._loaded, result = result, None
        if self._loaded is not None and self.switch_when(self._loaded):
            result, self._loaded = self._loaded, None
            self.show.switch(result)
            log.info("now playing %s", result.name)
        elif isinstance(result, LoadFailed):
            log.warning("cannot switch to %s (%s); the current sequence goes on", result.request, result.reason)
        if result is not None and not self.switching:
            deferred = list(self._deferred)
            self._deferred.clear()
            self._apply(deferred)
