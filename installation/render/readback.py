"""Asynchronous readback: frames copied out of the GPU through a ring of pixel buffer objects.

``glReadPixels`` into a pixel buffer object returns at once; the copy is mapped a frame or two
later, when the GPU is done with it, so rendering the next frame overlaps the transfer of the
last. Frames come out bottom row first, as OpenGL stores them; the sinks flip them.
"""

from __future__ import annotations

import ctypes
from collections import deque

from OpenGL import GL

from installation.render.framebuffer import Framebuffer


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
            data = ctypes.string_at(pointer, self.frame_bytes)
        finally:
            GL.glUnmapBuffer(GL.GL_PIXEL_PACK_BUFFER)
            GL.glBindBuffer(GL.GL_PIXEL_PACK_BUFFER, 0)
        return data

    def delete(self) -> None:
        GL.glDeleteBuffers(len(self._buffers), self._buffers)
