"""2D textures from 8-bit numpy pictures (row 0 is the top: uv (0, 0) is the top left)."""

from __future__ import annotations

import numpy as np
from OpenGL import GL

_FORMATS = {3: (GL.GL_RGB8, GL.GL_RGB), 4: (GL.GL_RGBA8, GL.GL_RGBA)}


class Texture:
    """One texture; ``smooth`` picks linear filtering, otherwise nearest (one texel per cell)."""

    def __init__(self, pixels: np.ndarray, smooth: bool = True) -> None:
        self.handle = GL.glGenTextures(1)
        self.size = (0, 0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.handle)
        flt = GL.GL_LINEAR if smooth else GL.GL_NEAREST
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, flt)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, flt)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
        self.upload(pixels)

    def upload(self, pixels: np.ndarray) -> None:
        """Replace the texture's pixels (H x W x 3 or 4, uint8)."""
        height, width, channels = pixels.shape
        internal, layout = _FORMATS[channels]
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.handle)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        data = np.ascontiguousarray(pixels, dtype=np.uint8)
        if (width, height) == self.size:
            GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, width, height, layout, GL.GL_UNSIGNED_BYTE, data)
        else:
            GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, internal, width, height, 0, layout, GL.GL_UNSIGNED_BYTE, data)
            self.size = (width, height)

    def bind(self, unit: int) -> None:
        GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.handle)

    def delete(self) -> None:
        GL.glDeleteTextures([self.handle])
