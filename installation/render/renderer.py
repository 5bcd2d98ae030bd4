"""Composes a frame: the sphere field, the full-resolution keyframes over it, and the blackout.

It draws a ``FrameState`` and nothing else, so the live loop and the capture loop show the same
picture for the same state. Layers, back to front: black, spheres (depth-tested), keyframe A at
``blend.image_a``, keyframe B at ``blend.image_b``; then the post passes (when one is on), and
black at ``blackout``. The picture is fitted to the frame between contain (all of it, letterboxed)
and cover (the frame filled, the picture and the sphere field cropped alike) by ``cover``.

The target may show a part of a larger canvas (``View``: a tile of a video wall). The GL viewport
is then the picture's whole rectangle on the canvas, shifted by the tile's corner and reaching
past the target's edges: GL clips a point sprite by its centre against the viewport, not the
target, so a sphere straddling two tiles is drawn on both, as it is on the whole canvas.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from OpenGL import GL
from OpenGL.raw.GL.VERSION import GL_3_3 as raw_gl

from installation.curves import smoothstep
from installation.render.post import GLOW_SCALE, REACH, PostChain, wanted
from installation.render.program import ShaderProgram
from installation.render.spheres import SphereField
from installation.render.textures import Texture
from installation.render.view import Rect, View
from installation.scene.parameters import ParameterValues
from installation.scene.show import FrameState
from installation.scene.stage import Stage

_FULL_TEXTURES_KEPT = 3
_NOT_TIMED = contextlib.nullcontext()


class Renderer:
    """Draws frame states into the bound framebuffer; it keeps the GL objects of the stage on show."""

    def __init__(self, shader_folder: Path) -> None:
        self.spheres_program = ShaderProgram(shader_folder, "spheres.vert", "spheres.frag")
        self.image_program = ShaderProgram(shader_folder, "image.vert", "image.frag")
        self.backdrop_programs = {
            False: ShaderProgram(shader_folder, "image.vert", "backdrop.frag"),
            True: ShaderProgram(shader_folder, "image.vert", "backdrop.frag", ("WHOLE_TEXELS",)),
        }
        """The backdrop's programs, by whether its keyframes are read by whole texels."""
        self.post = PostChain(shader_folder)
        self.black = Texture(np.zeros((1, 1, 3), np.uint8))
        self._quad = GL.glGenVertexArrays(1)
        self.field: SphereField | None = None
        self.cells: list[Texture] = []
        self._full: OrderedDict[int, Texture] = OrderedDict()
        self.stage: Stage | None = None
        self.timing: Callable[[str, float, float], None] | None = None
        """Told each pass's seconds by the clock and by GL's timer query (``bench --passes``);
        None: passes are not timed."""

    def _stage(self, stage: Stage) -> None:
        """Make ``stage``'s textures and sphere field current, replacing the last stage's.

        Programs are kept, so switching sequence compiles nothing and leaves nothing behind.
        """
        if stage is self.stage:
            return
        for texture in [*self.cells, *self._full.values()]:
            texture.delete()
        self._full.clear()
        if self.field is None or self.field.grid != stage.grid:
            if self.field is not None:
                self.field.delete()
            self.field = SphereField(stage.grid)
        self.field.forget_destinations()
        self.cells = [Texture(cells, smooth=False) for cells in stage.cells]
        self.stage = stage

    @property
    def programs(self) -> tuple[ShaderProgram, ...]:
        return (self.spheres_program, self.image_program, *self.backdrop_programs.values(), *self.post.programs)

    def draw(self, state: FrameState, target: View | tuple[int, int]) -> None:
        """Draw ``state`` into the bound framebuffer: the canvas fitted into a framebuffer of
        ``target``'s size, or the part of a larger canvas that a ``View`` shows.

        With post passes on, a tile draws a margin of canvas around itself, as far as the passes
        reach, so that its pixels are those of the whole canvas.
        """
        view = target if isinstance(target, View) else View.whole(target)
        self._stage(state.stage)
        values = state.values
        post = wanted(values)
        drawn = view.grown(REACH, GLOW_SCALE) if post and not view.is_whole else view
        if post:
            self.post.begin(drawn.size)
        else:
            self.post.forget()
        GL.glViewport(0, 0, *drawn.size)
        GL.glClearColor(0.0, 0.0, 0.0, 0.0)  # transparent where nothing is drawn: NDI's alpha
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        picture: Rect = viewport(view.canvas, state.stage.aspect, values.cover)
        x, y, width, height = drawn.place(picture)
        GL.glViewport(x, y, width, height)
        # Nothing past the picture's edge: how far a point sprite reaches past the viewport is the
        # driver's to decide (llvmpipe's depends on whether the viewport also passes the target's
        # edge), so a tile and the whole canvas would differ there.
        GL.glEnable(GL.GL_SCISSOR_TEST)
        GL.glScissor(x, y, width, height)
        GL.glEnable(GL.GL_BLEND)
        # colour over what is there; coverage accumulates in alpha (what a keying mixer reads)
        GL.glBlendFuncSeparate(GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA, GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)
        if state.blend.spheres > 0.0 and state.destinations is not None:
            with self._pass("backdrop"):
                self._draw_backdrop(state, (x, y, width, height))
            with self._pass("spheres"):
                self._draw_spheres(state, height)
        with self._pass("keyframes"):
            self.draw_picture(self._full_texture(state.index_a), state.blend.image_a, values)
            self.draw_picture(self._full_texture(state.index_b), state.blend.image_b, values)
        GL.glDisable(GL.GL_SCISSOR_TEST)
        if post:
            with self._pass("post"):
                self.post.finish(values, state.time, view.within(drawn), view.canvas[1])
            GL.glViewport(*view.place(picture))
        self.draw_picture(self.black, values.blackout, None)

    def _pass(self, name: str) -> contextlib.AbstractContextManager[None]:
        """Time a pass on its own when ``timing`` asks (nothing otherwise)."""
        return _NOT_TIMED if self.timing is None else self._timed(name, self.timing)

    @staticmethod
    @contextlib.contextmanager
    def _timed(name: str, timing: Callable[[str, float, float], None]) -> Iterator[None]:
        """The GL work before the pass finished first, its own finished after (a software
        renderer draws at the flush, not at the call), timed by the clock and by a
        GL_TIME_ELAPSED query around the pass's calls (what the driver counts as its GPU time)."""
        GL.glFinish()
        query = int(GL.glGenQueries(1)[0])
        started = time.perf_counter()
        GL.glBeginQuery(GL.GL_TIME_ELAPSED, query)
        yield
        GL.glEndQuery(GL.GL_TIME_ELAPSED)
        GL.glFinish()
        clock = time.perf_counter() - started
        elapsed = ctypes.c_uint64()  # PyOpenGL's wrapper has no array type for a 64-bit result
        raw_gl.glGetQueryObjectui64v(query, GL.GL_QUERY_RESULT, ctypes.byref(elapsed))
        GL.glDeleteQueries(1, [query])
        timing(name, clock, elapsed.value * 1e-9)

    def _draw_spheres(self, state: FrameState, height_px: int) -> None:
        assert self.field is not None and self.stage is not None
        values = state.values
        rows = self.stage.grid[1]
        pair = self.stage.pair(state.index_a, state.index_b)
        self.field.set_destinations((state.index_a, state.index_b), pair.destinations, pair.wander)
        program = self.spheres_program
        program.use()
        self._set_grade(program, values)
        self.cells[state.index_a].bind(0)
        self.cells[state.index_b].bind(1)
        program.set_int("cells_a", 0)
        program.set_int("cells_b", 1)
        program.set_float("motion", state.blend.motion)
        program.set_uint("transition", state.transition)
        program.set_float("sigma", values.diffusion)
        program.set_float("follow", values.follow)
        program.set_float("shading", values.shading)
        program.set_int("terms", int(round(values.terms)))
        program.set_float("aspect", self.stage.aspect)
        program.set_float("point_size", values.size * height_px / rows)
        GL.glEnable(GL.GL_PROGRAM_POINT_SIZE)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthFunc(GL.GL_LEQUAL)  # spheres side by side in the plane overlap, not cut by the AA edge
        self.field.draw()
        GL.glDisable(GL.GL_DEPTH_TEST)

    def _draw_backdrop(self, state: FrameState, picture: Rect) -> None:
        """The two keyframes cross-fading behind the spheres, at ``backdrop``, over the cleared
        ``picture`` (the viewport): where wandering spheres leave gaps, the picture shows through
        instead of black. Keyframes of the picture's size are read by whole texels."""
        opacity = state.values.backdrop
        if opacity <= 0.0:
            return
        first, second = self._full_texture(state.index_a), self._full_texture(state.index_b)
        program = self.backdrop_programs[first.size == second.size == picture[2:]]
        program.use()
        self._set_grade(program, state.values)
        first.bind(0)
        second.bind(1)
        program.set_int("picture", 0)
        program.set_int("picture_b", 1)
        program.set_float("towards", smoothstep(state.blend.motion))  # as the spheres' colours
        program.set_float("opacity", opacity)
        GL.glUniform2i(program.location("origin"), *picture[:2])
        GL.glDisable(GL.GL_BLEND)
        GL.glBindVertexArray(self._quad)
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
        GL.glEnable(GL.GL_BLEND)

    def draw_picture(self, texture: Texture, opacity: float, grade: ParameterValues | None) -> None:
        """A texture over the whole viewport at ``opacity`` (skipped when invisible), colour-graded
        by ``grade`` (None: as it is)."""
        if opacity <= 0.0:
            return
        program = self.image_program
        program.use()
        if grade is not None:
            self._set_grade(program, grade)
        texture.bind(0)
        program.set_int("picture", 0)
        program.set_float("opacity", opacity)
        program.set_int("graded", int(grade is not None))
        GL.glBindVertexArray(self._quad)
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)

    @staticmethod
    def _set_grade(program: ShaderProgram, values: ParameterValues) -> None:
        program.set_mat3("grade_matrix", grade_matrix(values.hue, values.saturation, values.brightness))

    def _full_texture(self, index: int) -> Texture:
        """The keyframe at full resolution, uploaded on first use; a few are kept."""
        if index in self._full:
            self._full.move_to_end(index)
            return self._full[index]
        if len(self._full) >= _FULL_TEXTURES_KEPT:
            self._full.popitem(last=False)[1].delete()
        assert self.stage is not None
        texture = Texture(self.stage.sequence.frames[index])
        self._full[index] = texture
        return texture


_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_TO_RGB = np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.106, 1.703]])


@functools.lru_cache(maxsize=64)
def grade_matrix(hue: float, saturation: float, brightness: float) -> np.ndarray:
    """The colour grade as one float32 matrix (``shaders/grade.glsl``): ``hue`` degrees rotated
    about the grey axis in YIQ, chroma scaled by ``saturation``, light by ``brightness``. Made on
    the CPU (once for each grade), so a pixel costs one matrix product, not a rotation's sine and
    cosine."""
    angle = math.radians(hue)
    c, s = math.cos(angle) * saturation, math.sin(angle) * saturation
    chroma = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    return np.ascontiguousarray(brightness * _TO_RGB @ chroma @ _TO_YIQ, np.float32)


def viewport(window: tuple[int, int], aspect: float, cover: float = 0.0) -> tuple[int, int, int, int]:
    """The rectangle of ``aspect`` the picture fills, centred on ``window``: at ``cover`` 0 the
    largest inside it (letterbox), at 1 the smallest around it (filled, cropped), between them
    in proportion (so a preset switch glides from one to the other)."""
    width, height = window
    inside = min(width / aspect, height)
    around = max(width / aspect, height)
    inner_height = inside + (around - inside) * min(max(cover, 0.0), 1.0)
    inner = (round(inner_height * aspect), round(inner_height))
    return ((width - inner[0]) // 2, (height - inner[1]) // 2, inner[0], inner[1])
