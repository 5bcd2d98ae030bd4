"""The show as a Spout sender (Windows): the drawn frame's GL texture, shared without readback.

Through ``SpoutGL`` (PyPI, BSD-style licence; Windows wheels only). Not tested on these machines (Linux):
Spout exists on Windows only, so here ``open_spout`` says so in one sentence. It is an output of
the frame loop like the others (``after_frame`` on the render thread, where the GL context is),
with the NDI sender's counts (``sent``, ``failed``; ``receivers`` is None: Spout does not tell).
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from installation.errors import UserError

if TYPE_CHECKING:
    from installation.render.loop import Frame

log = logging.getLogger(__name__)

GL_TEXTURE_2D = 0x0DE1


class SpoutSender:
    """One Spout sender named ``name``, sharing each frame's colour texture."""

    def __init__(self, spout: Any, name: str) -> None:
        self.name = name
        self.sent = 0
        self.failed = 0
        self._sender = spout.SpoutSender()
        self._sender.setSenderName(name)

    @property
    def receivers(self) -> int | None:
        """Spout does not tell a sender who reads it: None (unknown)."""
        return None

    def after_frame(self, frame: Frame) -> None:
        width, height = frame.target.size
        # GL keeps rows bottom first, Spout (DirectX) top first: ``invert`` turns them around.
        if self._sender.sendTexture(frame.target.colour, GL_TEXTURE_2D, width, height, True, 0):
            self._sender.setFrameSync(self.name)
            self.sent += 1
        else:
            self.failed += 1
            if self.failed == 1:
                log.warning("Spout refused a frame of %dx%d; the show goes on.", width, height)

    def close(self) -> None:
        self._sender.releaseSender()


def open_spout(name: str) -> SpoutSender:
    """A Spout sender named ``name``; call on the render thread, with the GL context current."""
    if sys.platform != "win32":
        raise UserError(f"Spout exists on Windows only, not on {sys.platform}; use --ndi {name} here.")
    try:
        import SpoutGL
    except ImportError as error:
        raise UserError(
            "Spout needs the SpoutGL binding, which is not installed here: run pip install SpoutGL."
        ) from error
    return SpoutSender(SpoutGL, name)
