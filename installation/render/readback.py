"""Asynchronous readback: frames copied out of the GPU through a ring of pixel buffer objects.

``glReadPixels`` into a pixel buffer object returns at once; the copy is mapped a frame or two
later, when the GPU is done with it, so rendering the next frame overlaps the transfer of the
last. OpenGL stores rows bottom first; ``top_row_first`` is the one place that turns them
around, for every frame that leaves the GPU (captures and screenshots alike).
"""

from __future__ import annotations

import ctypes
from collections import deque
from typing import TYPE_CHECKING

import numpy as np
from OpenGL import GL

if TYPE_CHECKING:
    from installation.render.framebuffer import Framebuffer


def top_row_first(rows: np.ndarray | bytes, size: tuple[int, int]) -> np.ndarray:
    """RGB rows as OpenGL reads them (bottom first) as a height x width x 3 picture, top row first."""
    width, height = size
    return np.frombuffer(rows, dtype=np.uint8).reshape(height, width, 3)[::-1]


def read_pixels(size: tuple[int, int]) -> np.ndarray:
    """The bound framebuffer's pixels, 8-bit RGB, top row first."""
    GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
    return top_row_first(GL.glReadPixels(0, 0, *size, GL.GL_RGB, GL.GL_UNSIGNED_BYTE), size).copy()


class PixelReader:
    """Reads RGB frames of a framebuffer with ``depth`` transfers in flight."""

    def __init__(self, framebuffer: Framebuffer, depth: int = 2) -> None:
        self.framebuffer = framebuffer
        width, height = framebuffer.size
        self.frame_bytes = width * height * 3
        self._buffers = list(GL.glGenBuffers(depth + 1))
        for buffer in self._buffers:
            GL.glBindBuffer(GL.GL_PIXEL_PACK_BUFFER, buffer)
            GL.glBufferData(GL.GL_PIXEL_PACK_BUFFER, self.frame_bytes, None, GL.GL_STREAM_READ)
        GL.glBindBuffer(GL.GL_PIXEL_PACK_BUFFER, 0)
        self._pending: deque[int] = deque()
        self._next = 0
        self.depth = depth

    def request(self) -> None:
        """Start copying the framebuffer's current picture."""
        buffer = self._buffers[self._next]
        self._next = (self._next + 1) % len(self._buffers)
        self.framebuffer.bind()
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        GL.glBindBuffer(GL.GL_PIXEL_PACK_BUFFER, buffer)
        width, height = self.framebuffer.size
        GL.glReadPixels(0, 0, width, height, GL.GL_RGB, GL.GL_UNSIGNED_BYTE, 0)
        GL.glBindBuffer(GL.GL_PIXEL_PACK_BUFFER, 0)
        self._pending.append(buffer)

    def ready(self) -> bytes | None:
        """The oldest frame once ``depth`` newer requests are queued behind it, else None."""
        if len(self._pending) <= self.depth:
            return None
        return self._take()

    def drain(self) -> list[bytes]:
        """Every frame still in flight, oldest first."""
        return [self._take() for _ in range(len(self._pending))]

    def _take(self) -> bytes:
        buffer = self._pending.popleft()
        GL.glBindBuffer(GL.GL_PIXEL_PACK_BUFFER, buffer)
        pointer = GL.glMapBufferRange(GL.GL_PIXEL_PACK_BUFFER, 0, self.frame_bytes, GL.GL_MAP_READ_BIT)
        try:
            rows = np.ctypeslib.as_array(ctypes.cast(pointer, ctypes.POINTER(ctypes.c_uint8)), (self.frame_bytes,))
            data = top_row_first(rows, self.framebuffer.size).tobytes()
        finally:
            GL.glUnmapBuffer(GL.GL_PIXEL_PACK_BUFFER)
            GL.glBindBuffer(GL.GL_PIXEL_PACK_BUFFER, 0)
        return data

    def delete(self) -> None:
        GL.glDeleteBuffers(len(self._buffers), self._buffers)
