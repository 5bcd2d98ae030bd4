"""The finish of a wall's tile: soft edges and a corner pin, applied to the drawn tile.

The tile is drawn as any frame is (``Renderer.draw`` of its ``View``); this pass then copies it
into the picture the projector or display gets, through ``shaders/tile.frag``. The outputs (the
window, a screenshot, NDI) take that picture, so what is saved is what the wall shows. A tile
with neither soft edges nor a pin skips the pass and costs nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from OpenGL import GL

from installation.render.framebuffer import Framebuffer
from installation.render.program import ShaderProgram
from installation.render.wall import WallLayout, pin_matrix


class TileFinish:
    """Draws the tile of ``layout`` through its soft edges and corner pin (changed live by
    ``layout``'s replacement: ``finish.layout = ...``)."""

    def __init__(self, shader_folder: Path, layout: WallLayout) -> None:
        self.program = ShaderProgram(shader_folder, "post.vert", "tile.frag")
        self.layout = layout
        self._quad = GL.glGenVertexArrays(1)
        self._output: Framebuffer | None = None

    def apply(self, drawn: Framebuffer) -> Framebuffer:
        """The finished picture of ``drawn`` (``drawn`` itself when there is nothing to finish)."""
        layout = self.layout
        if not layout.finished:
            return drawn
        if self._output is None or self._output.size != drawn.size:
            self.delete()
            self._output = Framebuffer(drawn.size)
        self._output.bind()
        GL.glViewport(0, 0, *drawn.size)
        GL.glDisable(GL.GL_BLEND)
        program = self.program
        program.use()
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, drawn.colour)
        program.set_int("picture", 0)
        program.set_mat3("pin", np.ascontiguousarray(pin_matrix(layout.corners), np.float32))
        program.set_vec2("size", *map(float, drawn.size))
        program.set_vec4("edges", *map(float, layout.blend_edges))
        program.set_float("gamma", layout.blend_gamma)
        GL.glBindVertexArray(self._quad)
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
        GL.glEnable(GL.GL_BLEND)
        return self._output

    def delete(self) -> None:
        if self._output is not None:
            self._output.delete()
            self._output = None
