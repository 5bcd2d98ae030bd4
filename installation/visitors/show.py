"""The show's side of the visitors: the page's process, and the glide into a wish and back.

``VisitorLink`` starts ``visitors/server.py`` on the visitor port (bound here, so a port in use is
said at start) and keeps it running like the web process (``ServedProcess``). It tells that
process the keyframe on screen (where a wish without a photo starts) and the operator's
``/visitors/...`` commands, and hears the queue and the wishes made. ``Visits``, a chore after
each frame, asks the pipeline for a made sequence (loaded in the background, so the show glides
into it), holds it for ``hold`` seconds of show time while the playlist waits, then asks for the
sequence it left.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from installation.config import TOML_LIMIT
from installation.control.websupervisor import ServedProcess, listen, offer
from installation.errors import UserError
from installation.files import read_input
from installation.paths import keyframes_dir
from installation.scene.commands import VISITOR_REQUESTS
from installation.scene.pipeline import FramePipeline
from installation.scene.show import FrameState
from installation.visitors.desk import read_blocklist
from installation.visitors.messages import Operator, Queue, Ready, Showing, VisitorSettings
from installation.visitors.options import VisitorOptions
from installation.visitors.qr import page_url, qr_pixels
from installation.visitors.studio import Recipe

log = logging.getLogger("installation.visitors")


def visitor_settings(options: VisitorOptions) -> VisitorSettings:
    """What the visitors' process needs, the block list read (and refused in one sentence) at start."""
    blocked = frozenset[str]()
    if options.blocklist is not None:
        data = read_input(options.blocklist, "visitor block list", "--visitor-blocklist", TOML_LIMIT)
        blocked = read_blocklist(data.decode("utf-8", "replace").splitlines())
    recipe = Recipe(**{field.name: getattr(options, field.name) for field in dataclasses.fields(Recipe)})
    folder = options.folder or keyframes_dir() / "visitors"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"The visitor folder {folder} cannot be made ({error.strerror}); give --visitor-folder a folder this "
            "user may write to."
        ) from None
    return VisitorSettings(
        folder=folder,
        recipe=recipe,
        every=options.every * 60,
        queue=options.queue,
        approve=options.approve,
        blocked=blocked,
        photos=options.photos,
        keep_photos=options.keep,
        keep_last=options.keep_last,
        url=page_url(options.port, options.url),
        log_level=logging.getLogger().getEffectiveLevel(),
    )


class VisitorLink(ServedProcess):
    """The visitor page, its queue and its studio, in a process of their own."""

    module = "installation.visitors.server"
    label = "visitors: the visitor page's process"
    thread = "visitors-link"

    def __init__(
        self, latest: Callable[[], FrameState | None], settings: VisitorSettings, port: int, host: str = "0.0.0.0"
    ) -> None:
        self._latest = latest
        listener = listen(host, port, "--visitor-port", "")
        self.port: int = listener.getsockname()[1]
        self.url = settings.url
        self.folder = settings.folder
        self.ready: deque[Ready] = deque()
        """Wishes made, in order, for the show to glide into (taken by ``Visits``)."""
        self.report: dict[str, Any] = {}
        self.qr = qr_pixels(self.url)
        """The page's QR code, for the on-screen display."""
        self._shown: Path | None = None
        super().__init__(listener, settings)
        log.info("visitors: the visitor page on %s:%d (/visit), wishes made in %s", host, self.port, settings.folder)

    def _told(self, message: object) -> None:
        if isinstance(message, Ready):
            self.ready.append(message)
        elif isinstance(message, Queue):
            self.report = message.report

    def _publish(self, link: Connection) -> None:
        """The keyframe on screen when it changed, and the operator's commands."""
        state = self._latest()
        if state is not None:
            sequence = state.stage.sequence
            keyframe = sequence.folder / sequence.manifest.frames[state.conductor.index].file
            if keyframe != self._shown and offer(link, Showing(keyframe)):
                self._shown = keyframe
        for command in VISITOR_REQUESTS.take():
            if not offer(link, Operator(command)):
                log.warning("visitors: the visitor page's process is busy; %s was dropped", command.name)

    def _restarted(self) -> None:
        self._shown = None

    def describe(self, on_screen: bool) -> dict[str, Any]:
        """``/status``'s visitors: the queue as the page's process said it, the page's address, and
        whether a wish is on screen."""
        return self.report | {"url": self.url, "port": self.port, "holding": on_screen}


class Visits:
    """After each frame: glide into a wish made, hold it, glide back to where the show was."""

    def __init__(self, ready: deque[Ready], pipeline: FramePipeline, hold: float) -> None:
        self.ready = ready
        """The wishes made, in order (``VisitorLink.ready``)."""
        self.pipeline = pipeline
        self.hold = hold
        self._arriving: Path | None = None
        self._until: float | None = None
        """The show time at which the wish on screen has been held long enough."""
        self._back: Path | None = None
        """The sequence the show left for the first wish; None while no wish is shown."""

    @property
    def holding(self) -> bool:
        """A wish is on screen or on its way: the playlist waits."""
        return self._back is not None

    def after_frame(self, state: FrameState) -> None:
        folder = state.stage.sequence.folder
        if self._arriving is not None:
            self._arrive(state, folder)
        elif self.ready and not self.pipeline.switching:
            ready = self.ready.popleft()
            self._back = self._back or folder
            self._arriving = ready.sequence
            log.info("visitors: wish %d (%r) is made; gliding into %s", ready.number, ready.prompt, ready.sequence.name)
            self.pipeline.request_sequence(ready.sequence)
        elif self._until is not None and state.time >= self._until and self._back is not None:
            log.info("visitors: back to %s", self._back.name)
            self.pipeline.request_sequence(self._back)
            self._until = self._back = None

    def _arrive(self, state: FrameState, folder: Path) -> None:
        if folder == self._arriving:
            self._arriving, self._until = None, state.time + self.hold
        elif not self.pipeline.switching:  # it could not be loaded (the pipeline said why)
            self._arriving = None
            if self._until is None:
                self._back = None

    @property
    def on_screen(self) -> bool:
        """A wish's sequence is playing now."""
        return self._back is not None and self._arriving is None
