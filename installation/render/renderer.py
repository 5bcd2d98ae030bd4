"""Composes a frame: the sphere field, the full-resolution keyframes over it, and the blackout.

It draws a ``FrameState`` and nothing else, so the live loop and the capture loop show the same
picture for the same state. Layers, back to front: black, spheres (depth-tested), keyframe A at
``blend.image_a``, keyframe B at ``blend.image_b``, black at ``blackout``.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
from OpenGL import GL

from installation.render.program import ShaderProgram
from installation.render.spheres import SphereField
from installation.render.textures import Texture
from installation.scene.show import FrameState, Show

_FULL_TEXTURES_KEPT = 3


class Renderer:
    """Draws frames of one ``Show`` into the bound framebuffer."""

    def __init__(self, show: Show, shader_folder) -> None:
        self.spheres_program = ShaderProgram(shader_folder, "spheres.vert", "spheres.frag")
        self.image_program = ShaderProgram(shader_folder, "image.vert", "image.frag")
        self.black = Texture(np.zeros((1, 1, 3), np.uint8))
        self._quad = GL.glGenVertexArrays(1)
        self.field: SphereField | None = None
        self.cells: list[Texture] = []
        self._full: OrderedDict[int, Texture] = OrderedDict()
        self.play(show)

    def play(self, show: Show) -> None:
        """Draw ``show`` from now on: its textures and sphere field replace the last show's.

        Programs are kept, so switching sequence compiles nothing and leaves nothing behind.
        """
        for texture in [*self.cells, *self._full.values()]:
            texture.delete()
        self._full.clear()
        if self.field is None or self.field.grid != show.grid:
            if self.field is not None:
                self.field.delete()
            self.field = SphereField(show.grid)
        self.field.forget_destinations()
        self.cells = [Texture(cells, smooth=False) for cells in show.cells]
        self.show = show
        height, width = show.sequence.frames[0].shape[:2]
        self.aspect = width / height

    @property
    def programs(self) -> tuple[ShaderProgram, ShaderProgram]:
        return (self.spheres_program, self.image_program)

    def viewport(self, window: tuple[int, int]) -> tuple[int, int, int, int]:
        """The largest rectangle of the picture's aspect inside ``window``, centred (letterbox)."""
        width, height = window
        if width / height > self.aspect:
            inner = (round(height * self.aspect), height)
        else:
            inner = (width, round(width / self.aspect))
        return ((width - inner[0]) // 2, (height - inner[1]) // 2, inner[0], inner[1])

    def draw(self, state: FrameState, window: tuple[int, int]) -> None:
        GL.glViewport(0, 0, *window)
        GL.glClearColor(0.0, 0.0, 0.0, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        x, y, width, height = self.viewport(window)
        GL.glViewport(x, y, width, height)
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)
        if state.blend.spheres > 0.0:
            self._draw_spheres(state, height)
        self.draw_picture(self._full_texture(state.index_a), state.blend.image_a, state.parameters)
        self.draw_picture(self._full_texture(state.index_b), state.blend.image_b, state.parameters)
        self.draw_picture(self.black, state.parameters["blackout"], state.parameters, graded=False)

    def _draw_spheres(self, state: FrameState, height_px: int) -> None:
        params = state.parameters
        columns, rows = self.show.grid
        self.field.set_destinations(
            (state.index_a, state.index_b), self.show.destinations(state.index_a, state.index_b)
        )
        program = self.spheres_program
        program.use()
        self._set_grade(program, params)
        self.cells[state.index_a].bind(0)
        self.cells[state.index_b].bind(1)
        program.set_int("cells_a", 0)
        program.set_int("cells_b", 1)
        program.set_float("motion", state.blend.motion)
        program.set_uint("transition", state.transition)
        program.set_float("sigma", params["diffusion"])
        program.set_int("terms", int(round(params["terms"])))
        program.set_float("aspect", self.aspect)
        program.set_float("point_size", params["size"] * height_px / rows)
        GL.glEnable(GL.GL_PROGRAM_POINT_SIZE)
        GL.glEnable(GL.GL_DEPTH_TEST)
        self.field.draw()
        GL.glDisable(GL.GL_DEPTH_TEST)

    def draw_picture(self, texture: Texture, opacity: float, params: dict[str, float], graded: bool = True) -> None:
        """A texture over the whole viewport at ``opacity`` (skipped when invisible)."""
        if opacity <= 0.0:
            return
        program = self.image_program
        program.use()
        if graded:
            self._set_grade(program, params)
        texture.bind(0)
        program.set_int("picture", 0)
        program.set_float("opacity", opacity)
        program.set_int("graded", int(graded))
        GL.glBindVertexArray(self._quad)
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)

    @staticmethod
    def _set_grade(program: ShaderProgram, params: dict[str, float]) -> None:
        program.set_float("hue_shift", math.radians(params["hue"]))
        program.set_float("saturation", params["saturation"])
        program.set_float("brightness", params["brightness"])

    def _full_texture(self, index: int) -> Texture:
        """The keyframe at full resolution, uploaded on first use; a few are kept."""
        if index in self._full:
            self._full.move_to_end(index)
            return self._full[index]
        if len(self._full) >= _FULL_TEXTURES_KEPT:
            self._full.popitem(last=False)[1].delete()
        texture = Texture(self.show.sequence.frames[index])
        self._full[index] = texture
        return texture


def read_pixels(size: tuple[int, int]) -> np.ndarray:
    """The bound framebuffer's pixels, 8-bit RGB, row 0 at the top."""
    width, height = size
    GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
    data = GL.glReadPixels(0, 0, width, height, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
    return np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3)[::-1].copy()
