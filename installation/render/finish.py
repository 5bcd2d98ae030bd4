"""The finish of a wall's tile: soft edges and a corner pin, applied to the drawn tile.

The tile is drawn as any frame is (``Renderer.draw`` of its ``View``); this pass then copies it
into the picture the projector or display gets, through ``shaders/tile.frag``. The outputs (the
window, a screenshot, NDI) take that picture, so what is saved is what the wall shows. A tile
with neither soft edges nor a pin skips the pass and costs nothing, so every show has it: a
single projector is keystoned the same way.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from OpenGL import GL

from installation.render.framebuffer import Framebuffer
from installation.render.program import ShaderProgram
from installation.render.wall import SQUARE, Corners, WallLayout, corners_of, pin_matrix
from installation.scene.parameters import ParameterValues

log = logging.getLogger(__name__)


class TileFinish:
    """Draws the tile of ``layout`` through its soft edges and the frame's corner pin (the
    ``corner_*`` and ``blend_gamma`` parameters: set live like any other)."""

    def __init__(self, shader_folder: Path, layout: WallLayout) -> None:
        self.program = ShaderProgram(shader_folder, "post.vert", "tile.frag")
        self.layout = layout
        self._quad = GL.glGenVertexArrays(1)
        self._output: Framebuffer | None = None
        self._last_pin = pin_matrix(SQUARE)
        self._said: Corners | None = None

    def apply(self, drawn: Framebuffer, values: ParameterValues) -> Framebuffer:
        """The finished picture of ``drawn`` with the corner pin and gamma of ``values`` (``drawn``
        itself when there is nothing to finish)."""
        layout, corners = self.layout, corners_of(values)
        if not any(layout.blend_edges) and corners == SQUARE:
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
        program.set_mat3("pin", self._pin(corners))
        program.set_vec2("size", *map(float, drawn.size))
        program.set_vec4("edges", *map(float, layout.blend_edges))
        program.set_float("gamma", values.blend_gamma)
        GL.glBindVertexArray(self._quad)
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
        GL.glEnable(GL.GL_BLEND)
        return self._output

    def _pin(self, corners: Corners) -> np.ndarray:
        """The pin's matrix; corners moved live into a line (no area) keep the last pin drawn."""
        try:
            self._last_pin = pin_matrix(corners)
        except ValueError:
            if self._said != corners:
                log.warning("corner pin %s leaves the picture no area; keeping the last one", corners)
                self._said = corners
        return self._last_pin

    def delete(self) -> None:
        if self._output is not None:
            self._output.delete()
            self._output = None
