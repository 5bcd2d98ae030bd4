"""The show as a Syphon server (macOS): the drawn frame's GL texture, shared without readback.

Through ``syphon-python`` (PyPI, MIT; macOS 11 or later), its OpenGL server on the current GL
context. Not tested on these machines (Linux): Syphon exists on macOS only, so here
``open_syphon`` says so in one sentence. It is an output of the frame loop like the others
(``after_frame`` on the render thread), with the NDI sender's counts (``sent``, ``failed``,
``receivers``: 1 while Syphon has clients).
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from installation.errors import UserError

if TYPE_CHECKING:
    from installation.render.loop import Frame

log = logging.getLogger(__name__)


class SyphonSender:
    """One Syphon OpenGL server named ``name``, publishing each frame's colour texture."""

    def __init__(self, syphon: Any, name: str) -> None:
        self.name = name
        self.sent = 0
        self.failed = 0
        self._server = syphon.SyphonOpenGLServer(name)  # on the current (the show's) GL context

    @property
    def receivers(self) -> int:
        try:
            return 1 if self._server.has_clients else 0
        except Exception:
            return 0

    def after_frame(self, frame: Frame) -> None:
        try:
            # Syphon's OpenGL frames keep GL's bottom-first rows, as the texture has them.
            self._server.publish_frame_texture(frame.target.colour, size=frame.target.size, is_flipped=False)
            self.sent += 1
        except Exception as error:  # Syphon's fault never reaches the show: said once, counted
            self.failed += 1
            if self.failed == 1:
                log.warning("Syphon refused a frame (%s); the show goes on.", error)

    def close(self) -> None:
        self._server.stop()


def open_syphon(name: str) -> SyphonSender:
    """A Syphon server named ``name``; call on the render thread, with the GL context current."""
    if sys.platform != "darwin":
        raise UserError(f"Syphon exists on macOS only, not on {sys.platform}; use --ndi {name} here.")
    try:
        import syphon
    except ImportError as error:
        raise UserError(
            "Syphon needs the syphon-python binding, which is not installed here: run pip install syphon-python."
        ) from error
    return SyphonSender(syphon, name)
