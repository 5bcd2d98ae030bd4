"""Readback: frames copied out of the GPU, in the layout their output takes, without a stall.

The frame is turned into the output's rows on the GPU: top row first (OpenGL keeps the bottom
row first; this is the one place that turns them around), by a flipped blit, or by a packing pass
(``shaders/pack.frag``) where it is converted to UYVY 4:2:2 (what NDI takes) or scaled; GL's read
gives RGB, RGBA or BGRA. ``glReadPixels`` into a pixel
buffer object then returns at once, and the copy is mapped a frame or two later when the GPU is
done with it, so drawing the next frame overlaps the transfer of the last.

A capture takes every frame (``ready`` waits for the oldest once enough are in flight); a live
output never makes the loop wait: ``offer`` drops a frame when the ring is full and ``poll``
hands over only copies the GPU has finished, so a slow transfer costs frames, counted, not time.

On llvmpipe (the CPU is the GPU) the read does wait: for the frame's drawing, which the render
thread waits for with or without a readback (llvmpipe draws a frame when its pixels are needed;
a glFinish after each frame leaves the frame time as it was), and for the packing pass itself,
which is what a readback costs there (``benchmarks/ndi.py`` prints the two apart). Reading the
previous frame's packed copy instead of this one's was tried and measured: it saved nothing, as
llvmpipe draws the packing pass when the next frame's passes need the context anyway.
"""

from __future__ import annotations

import ctypes
from collections import deque
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from OpenGL import GL

from installation.paths import shaders_dir
from installation.render.program import ShaderProgram

if TYPE_CHECKING:
    from installation.render.framebuffer import Framebuffer


class PixelFormat(StrEnum):
    """The layouts a frame can be read back in."""

    RGB = "rgb"
    RGBA = "rgba"
    BGRA = "bgra"
    UYVY = "uyvy"

    @property
    def bytes_per_pixel(self) -> int:
        return {"rgb": 3, "rgba": 4, "bgra": 4, "uyvy": 2}[self.value]


_READ_LAYOUT = {
    PixelFormat.RGB: GL.GL_RGB,
    PixelFormat.RGBA: GL.GL_RGBA,
    PixelFormat.BGRA: GL.GL_BGRA,
    PixelFormat.UYVY: GL.GL_RGBA,
}
"""What ``glReadPixels`` reads of the packed RGBA picture: UYVY's texels are its bytes U Y0 V Y1."""


def top_row_first(rows: np.ndarray | bytes, size: tuple[int, int]) -> np.ndarray:
    """RGB rows as OpenGL reads them (bottom first) as a height x width x 3 picture, top row first."""
    width, height = size
    return np.frombuffer(rows, dtype=np.uint8).reshape(height, width, 3)[::-1]


def read_pixels(size: tuple[int, int]) -> np.ndarray:
    """The bound framebuffer's pixels, 8-bit RGB, top row first, read at once (tests, one-off reads)."""
    GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
    return top_row_first(GL.glReadPixels(0, 0, *size, GL.GL_RGB, GL.GL_UNSIGNED_BYTE), size).copy()


class Packer:
    """The packing pass for one output size and format, with the texture it packs into; a frame of
    another size is scaled to it on the GPU."""

    def __init__(self, size: tuple[int, int], pixel_format: PixelFormat, shader_folder: Path | None = None) -> None:
        width, height = size
        if pixel_format is PixelFormat.UYVY and width % 2:
            raise ValueError(f"UYVY needs an even width, not {width}")
        self.format = pixel_format
        self.pixels = size
        """The output's size in pixels."""
        self.size = (width // 2, height) if pixel_format is PixelFormat.UYVY else size
        """The packed picture's size in texels (UYVY: one texel per two pixels)."""
        self._shader_folder = shader_folder or shaders_dir()
        self._programs: dict[bool, ShaderProgram] = {}
        """The packing pass's variant for a frame at the output's size (False) and for one scaled (True)."""
        self._quad = GL.glGenVertexArrays(1)
        self.texture = GL.glGenTextures(1)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
        GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA8, *self.size, 0, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, None)
        self.framebuffer = GL.glGenFramebuffers(1)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.framebuffer)
        GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D, self.texture, 0)

    @property
    def frame_bytes(self) -> int:
        width, height = self.size
        return width * height * (3 if self.format is PixelFormat.RGB else 4)

    def pack(self, source: Framebuffer) -> None:
        """Pack ``source``'s picture; the packed picture is left bound for reading.

        Rows are turned around on the GPU either way: by a flipped blit where the layout is the
        frame's own at its own size (GL's read converts RGBA to RGB or BGRA as it copies), by the
        packing pass where pixels are converted (UYVY) or scaled."""
        if self.format is not PixelFormat.UYVY and source.size == self.size:
            width, height = self.size
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, source.handle)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self.framebuffer)
            GL.glBlitFramebuffer(0, 0, width, height, 0, height, width, 0, GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST)
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.framebuffer)
            return
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.framebuffer)
        GL.glViewport(0, 0, *self.size)
        GL.glDisable(GL.GL_BLEND)
        program = self._program(scaled=source.size != self.pixels)
        program.use()
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, source.colour)
        program.set_int("frame", 0)
        program.set_vec2("size", *self.pixels)
        GL.glBindVertexArray(self._quad)
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
        GL.glEnable(GL.GL_BLEND)

    def _program(self, scaled: bool) -> ShaderProgram:
        """The packing pass for this format, compiled on first use: one that fetches the frame's
        texels as they are (the frame at the output's size; half the cost on llvmpipe of a
        filtered sample), or one that samples it filtered (scaled)."""
        if scaled not in self._programs:
            defines = (("UYVY",) if self.format is PixelFormat.UYVY else ()) + (("SCALED",) if scaled else ())
            self._programs[scaled] = ShaderProgram(self._shader_folder, "post.vert", "pack.frag", defines)
        return self._programs[scaled]

    def read_into(self, offset: int = 0) -> None:
        """``glReadPixels`` of the packed picture into the bound pixel pack buffer at ``offset``."""
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        GL.glReadPixels(0, 0, *self.size, _READ_LAYOUT[self.format], GL.GL_UNSIGNED_BYTE, ctypes.c_void_p(offset))

    def delete(self) -> None:
        GL.glDeleteFramebuffers(1, [self.framebuffer])
        GL.glDeleteTextures([self.texture])
        GL.glDeleteVertexArrays(1, [self._quad])
        for program in self._programs.values():
            program.delete()
        self._programs.clear()


class PixelReader:
    """Frames read back at ``size`` in ``pixel_format`` through ``depth`` + 1 pixel buffers."""

    def __init__(self, size: tuple[int, int], pixel_format: PixelFormat = PixelFormat.RGB, depth: int = 2) -> None:
        self.size = size
        self.packer = Packer(size, pixel_format)
        self.frame_bytes = self.packer.frame_bytes
        self.depth = depth
        self.dropped = 0
        """Frames ``offer`` left out because every buffer was still in flight."""
        self._free = list(GL.glGenBuffers(depth + 1))
        for buffer in self._free:
            GL.glBindBuffer(GL.GL_PIXEL_PACK_BUFFER, buffer)
            GL.glBufferData(GL.GL_PIXEL_PACK_BUFFER, self.frame_bytes, None, GL.GL_STREAM_READ)
        GL.glBindBuffer(GL.GL_PIXEL_PACK_BUFFER, 0)
        self._buffers = list(self._free)
        self._pending: deque[tuple[int, int]] = deque()
        """(buffer, fence) of each copy in flight, oldest first."""

    @property
    def format(self) -> PixelFormat:
        return self.packer.format

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def request(self, source: Framebuffer) -> None:
        """Start copying ``source``'s current picture (a capture: every frame is wanted)."""
        if not self._free:
            raise RuntimeError("every pixel buffer is in flight; take a frame first")
        buffer = self._free.pop()
        self.packer.pack(source)
        GL.glBindBuffer(GL.GL_PIXEL_PACK_BUFFER, buffer)
        self.packer.read_into()
        GL.glBindBuffer(GL.GL_PIXEL_PACK_BUFFER, 0)
        self._pending.append((buffer, GL.glFenceSync(GL.GL_SYNC_GPU_COMMANDS_COMPLETE, 0)))
        source.bind()

    def offer(self, source: Framebuffer) -> bool:
        """Start copying ``source``'s picture if a buffer is free; otherwise count it dropped.
        Never waits: what a live output uses."""
        if not self._free:
            self.dropped += 1
            return False
        self.request(source)
        return True

    def ready(self) -> bytes | None:
        """The oldest frame once ``depth`` newer requests are queued behind it, else None."""
        if len(self._pending) <= self.depth:
            return None
        return self._take()

    def poll(self) -> bytes | None:
        """The oldest frame if the GPU has finished copying it, else None; never waits."""
        if not self._pending:
            return None
        status = GL.glClientWaitSync(self._pending[0][1], GL.GL_SYNC_FLUSH_COMMANDS_BIT, 0)
        if status not in (GL.GL_ALREADY_SIGNALED, GL.GL_CONDITION_SATISFIED):
            return None
        return self._take()

    def drain(self) -> list[bytes]:
        """Every frame still in flight, oldest first."""
        return [self._take() for _ in range(len(self._pending))]

    def _take(self) -> bytes:
        buffer, fence = self._pending.popleft()
        GL.glDeleteSync(fence)
        GL.glBindBuffer(GL.GL_PIXEL_PACK_BUFFER, buffer)
        pointer = GL.glMapBufferRange(GL.GL_PIXEL_PACK_BUFFER, 0, self.frame_bytes, GL.GL_MAP_READ_BIT)
        try:
            data = ctypes.string_at(pointer, self.frame_bytes)
        finally:
            GL.glUnmapBuffer(GL.GL_PIXEL_PACK_BUFFER)
            GL.glBindBuffer(GL.GL_PIXEL_PACK_BUFFER, 0)
        self._free.append(buffer)
        return data

    def delete(self) -> None:
        for _, fence in self._pending:
            GL.glDeleteSync(fence)
        self._pending.clear()
        GL.glDeleteBuffers(len(self._buffers), self._buffers)
        self.packer.delete()
