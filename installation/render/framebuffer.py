"""An offscreen framebuffer of any size, independent of the window.

Every frame is drawn into one, live or captured, so ``play`` and ``capture`` rasterise into the
same kind of target and give the same pixels; the live loop then copies it to the window.
"""

from __future__ import annotations

import numpy as np
from OpenGL import GL

from installation.errors import UserError
from installation.render.readback import read_pixels


class Framebuffer:
    """A colour + depth render target of ``size`` = (width, height) pixels."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size
        limit = int(GL.glGetIntegerv(GL.GL_MAX_RENDERBUFFER_SIZE))
        if max(size) > limit:
            raise UserError(
                f"{size[0]}x{size[1]} is larger than this GPU's {limit}-pixel limit; choose a smaller --size."
            )
        self.handle = GL.glGenFramebuffers(1)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.handle)
        self.colour = GL.glGenTextures(1)
        """The picture as a texture, so that readback's packing pass can sample it."""
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.colour)
        GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA8, *size, 0, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, None)
        for name in (GL.GL_TEXTURE_MIN_FILTER, GL.GL_TEXTURE_MAG_FILTER):
            GL.glTexParameteri(GL.GL_TEXTURE_2D, name, GL.GL_LINEAR)  # exact at texel centres
        for name in (GL.GL_TEXTURE_WRAP_S, GL.GL_TEXTURE_WRAP_T):
            GL.glTexParameteri(GL.GL_TEXTURE_2D, name, GL.GL_CLAMP_TO_EDGE)
        GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D, self.colour, 0)
        self._depth = GL.glGenRenderbuffers(1)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self._depth)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_DEPTH_COMPONENT24, *size)
        GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT, GL.GL_RENDERBUFFER, self._depth)
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            raise RuntimeError(f"framebuffer incomplete: 0x{int(status):x}")

    def bind(self) -> None:
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.handle)

    def read(self) -> np.ndarray:
        """The pixels drawn so far, 8-bit RGB, row 0 at the top."""
        self.bind()
        return read_pixels(self.size)

    def blit_to_window(self) -> None:
        """Copy the picture to the window's framebuffer, pixel for pixel."""
        width, height = self.size
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.handle)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, 0)
        GL.glBlitFramebuffer(0, 0, width, height, 0, 0, width, height, GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)

    def delete(self) -> None:
        GL.glDeleteFramebuffers(1, [self.handle])
        GL.glDeleteTextures([self.colour])
        GL.glDeleteRenderbuffers(1, [self._depth])
