"""Post passes over a drawn frame: depth of field, glow and trails (``shaders/focus.glsl``,
``glow.frag``, ``compose.frag``).

While all three are off the renderer draws straight into the caller's framebuffer and nothing
here runs, so they cost nothing. When one is on, the frame is drawn into this chain's own colour
and depth textures, the passes run, and the result is copied into the caller's framebuffer.
Trails feed back the last output: it is kept here and is a function of the frames drawn since
the first (a frame drawn without post passes forgets it), so play and capture, which draw the
same states, show the same trails.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from OpenGL import GL

from installation.render.program import ShaderProgram
from installation.render.view import Rect
from installation.scene.parameters import ParameterValues

GLOW_SCALE = 4
"""The glow is blurred at a quarter of the frame's size: four times the reach for the same taps.
A glow texel is always this many pixels of the canvas, so tiles blur as the whole canvas does."""
_GLOW_THRESHOLD = 0.45
_GLOW_TAPS = 4
"""Texels the glow's blur reaches each way (glow.frag): the bright texture's margin left and right."""
_FOCUS_REACH = 1.0 / 40.0
"""Depth of field blur radius per picture half-height of distance, as a share of the canvas's height."""
_FOCUS_TAPS = 24
"""The depth of field's taps (focus.glsl's TAPS), told as a uniform so that its loop stays a loop."""
REACH = 48
"""How far, in pixels, a pixel of the passes' output reads the scene: the depth of field's widest
disc (24, focus.glsl) plus the glow's taps (4 of 4 pixels, each way) and its upsampling."""
TRAILS_RATE = 60.0
"""``trails`` is the share kept over 1/TRAILS_RATE of a second: at 60 fps, the share kept a frame."""
TRAILS_MEMORY = 256
"""Frames after which no trace of a frame is left in the trails (255 levels, at least one lost a frame)."""


_COMPOSE_PARTS = ("FOCUS", "GLOW", "TRAILS")
"""compose.frag's parts, each compiled in only where it is on."""


def wanted(values: ParameterValues) -> bool:
    """Whether any post pass is on for a frame drawn with ``values``."""
    return values.glow > 0.0 or values.trails > 0.0 or values.defocus > 0.0


@dataclass
class _Target:
    """A texture and the framebuffer that draws into it (with a depth texture for the scene)."""

    size: tuple[int, int]
    colour: int
    framebuffer: int
    depth: int = 0

    @classmethod
    def make(cls, size: tuple[int, int], with_depth: bool = False, internal: int = GL.GL_RGBA8) -> _Target:
        colour = _texture(size, internal, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE)
        depth = _texture(size, GL.GL_DEPTH_COMPONENT24, GL.GL_DEPTH_COMPONENT, GL.GL_UNSIGNED_INT) if with_depth else 0
        framebuffer = GL.glGenFramebuffers(1)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, framebuffer)
        GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D, colour, 0)
        if depth:
            GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT, GL.GL_TEXTURE_2D, depth, 0)
        return cls(size, colour, framebuffer, depth)

    def bind(self) -> None:
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.framebuffer)
        GL.glViewport(0, 0, *self.size)

    def delete(self) -> None:
        GL.glDeleteFramebuffers(1, [self.framebuffer])
        GL.glDeleteTextures([texture for texture in (self.colour, self.depth) if texture])


def _texture(size: tuple[int, int], internal: int, layout: int, kind: int) -> int:
    texture = GL.glGenTextures(1)
    GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
    GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, internal, *size, 0, layout, kind, None)
    for name, value in (
        (GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR),
        (GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR),
        (GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE),
        (GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE),
    ):
        GL.glTexParameteri(GL.GL_TEXTURE_2D, name, value)
    return texture


class PostChain:
    """The post passes and their render targets, made for one frame size at a time."""

    def __init__(self, shader_folder: Path) -> None:
        self.focus_program = ShaderProgram(shader_folder, "post.vert", "focus.frag")
        self.bright_program = ShaderProgram(shader_folder, "post.vert", "glow.frag", ("BRIGHT",))
        self.glow_program = ShaderProgram(shader_folder, "post.vert", "glow.frag")
        self.compose_programs = {
            parts: ShaderProgram(shader_folder, "post.vert", "compose.frag", parts)
            for count in range(len(_COMPOSE_PARTS) + 1)
            for parts in itertools.combinations(_COMPOSE_PARTS, count)
        }
        """compose.frag with the parts of each key compiled in (a pass that is off costs nothing)."""
        self._quad = GL.glGenVertexArrays(1)
        self._targets: dict[str, _Target] = {}
        self._output: int = 0
        self._history: float | None = None
        """The show time of the last output, while it is a frame of the current run of
        post-processed frames (None: the next frame has no past)."""

    @property
    def programs(self) -> tuple[ShaderProgram, ...]:
        return (self.focus_program, self.bright_program, self.glow_program, *self.compose_programs.values())

    def begin(self, size: tuple[int, int]) -> None:
        """Remember the caller's framebuffer and bind the scene target, cleared, in its place."""
        self._output = int(GL.glGetIntegerv(GL.GL_DRAW_FRAMEBUFFER_BINDING))
        if not self._targets or self._targets["scene"].size != size:
            self._make_targets(size)
        self._targets["scene"].bind()

    def forget(self) -> None:
        """A frame was drawn without post passes: the trails start afresh at the next one."""
        self._history = None

    def finish(self, values: ParameterValues, time: float, crop: Rect, canvas_height: int) -> None:
        """Run the passes over the scene of the frame at show ``time`` and copy its ``crop`` into
        the caller's framebuffer; blur radii are shares of ``canvas_height``.

        The depth of field gets a pass of its own only when the glow must read the focused
        picture; otherwise the last pass focuses as it composes: one full-screen pass less.
        """
        GL.glDisable(GL.GL_BLEND)
        GL.glBindVertexArray(self._quad)
        picture = self._targets["scene"].colour
        focus_first = values.defocus > 0.0 and values.glow > 0.0
        if focus_first:
            picture = self._focus(values.defocus, canvas_height)
        bloom = self._glow(picture) if values.glow > 0.0 else picture
        previous, current = self._targets["history_a"], self._targets["history_b"]
        defocus = 0.0 if focus_first else values.defocus
        kept = self._kept(values.trails, time)
        self._compose(picture, bloom, previous.colour, values, kept, current, (defocus, canvas_height))
        self._targets["history_a"], self._targets["history_b"] = current, previous
        self._history = time
        x, y, width, height = crop
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, current.framebuffer)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self._output)
        GL.glBlitFramebuffer(x, y, x + width, y + height, 0, 0, width, height, GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._output)
        GL.glViewport(0, 0, width, height)
        GL.glEnable(GL.GL_BLEND)

    def _make_targets(self, size: tuple[int, int]) -> None:
        self.delete_targets()
        small = (-(-size[0] // GLOW_SCALE), -(-size[1] // GLOW_SCALE))
        self._targets = {
            "scene": _Target.make(size, with_depth=True),
            "focus": _Target.make(size),
            "history_a": _Target.make(size),
            "history_b": _Target.make(size),
            # half floats: the glow is added at several times its strength, so 8-bit steps would show
            "bright": _Target.make((small[0] + 2 * _GLOW_TAPS, small[1]), internal=GL.GL_RGBA16F),
            "glow_x": _Target.make(small, internal=GL.GL_RGBA16F),
            "glow_y": _Target.make(small, internal=GL.GL_RGBA16F),
        }
        self._history = None

    def _kept(self, trails: float, time: float) -> float:
        """The share of the last output kept in this frame: ``trails`` per 1/TRAILS_RATE s of show
        time since that output (0 when there is none)."""
        if self._history is None or trails <= 0.0:
            return 0.0
        return float(trails ** (max(time - self._history, 0.0) * TRAILS_RATE))

    def _focus(self, strength: float, canvas_height: int) -> int:
        target = self._targets["focus"]
        target.bind()
        self.focus_program.use()
        self._set_focus(self.focus_program, strength, canvas_height)
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
        return target.colour

    def _set_focus(self, program: ShaderProgram, strength: float, canvas_height: int) -> None:
        """The scene and the uniforms of ``focus.glsl`` (``strength`` 0: no blur)."""
        scene = self._targets["scene"]
        _bind(program, "picture", 0, scene.colour)
        _bind(program, "depth", 3, scene.depth)
        program.set_vec2("texel", 1.0 / scene.size[0], 1.0 / scene.size[1])
        program.set_float("strength", strength)
        program.set_float("reach", canvas_height * _FOCUS_REACH)
        program.set_int("taps", _FOCUS_TAPS)

    def _glow(self, picture: int) -> int:
        """The bright parts at ``GLOW_SCALE`` pixels a texel, with a margin of ``_GLOW_TAPS``
        texels left and right, then blurred along x, then along y (glow.frag)."""
        bright, across, down = self._targets["bright"], self._targets["glow_x"], self._targets["glow_y"]
        width, padded = across.size[0], bright.size[0]
        scale_x, scale_y = self._bloom_scale()
        self.bright_program.use()
        self.bright_program.set_float("threshold", _GLOW_THRESHOLD)
        frame_margin = _GLOW_TAPS * scale_x / width  # in the frame's uv
        self._glow_pass(
            self.bright_program, bright, picture, (scale_x * padded / width, scale_y), (-frame_margin, 0.0), (0.0, 0.0)
        )
        self._glow_pass(
            self.glow_program,
            across,
            bright.colour,
            (width / padded, 1.0),
            (_GLOW_TAPS / padded, 0.0),
            (1 / padded, 0.0),
        )
        self._glow_pass(self.glow_program, down, across.colour, (1.0, 1.0), (0.0, 0.0), (0.0, 1.0 / down.size[1]))
        return down.colour

    @staticmethod
    def _glow_pass(
        program: ShaderProgram,
        target: _Target,
        source: int,
        scale: tuple[float, float],
        offset: tuple[float, float],
        step: tuple[float, float],
    ) -> None:
        """One pass of glow.frag into ``target``: ``source`` read at uv * ``scale`` + ``offset``,
        its taps ``step`` apart."""
        target.bind()
        program.use()
        _bind(program, "picture", 0, source)
        program.set_vec2("uv_scale", *scale)
        program.set_vec2("uv_offset", *offset)
        program.set_vec2("step_uv", *step)
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)

    def _bloom_scale(self) -> tuple[float, float]:
        """The glow texture's span over the frame's: above 1 where the frame's side is not a
        multiple of ``GLOW_SCALE`` (the last texel reaches past the edge)."""
        frame, small = self._targets["scene"].size, self._targets["glow_y"].size
        return (small[0] * GLOW_SCALE / frame[0], small[1] * GLOW_SCALE / frame[1])

    def _compose(
        self,
        picture: int,
        bloom: int,
        previous: int,
        values: ParameterValues,
        kept: float,
        target: _Target,
        focus: tuple[float, int],
    ) -> None:
        """The last pass into ``target``; ``focus`` (strength, canvas height) blurs the scene
        by depth on the way (strength 0: ``picture`` as it is)."""
        target.bind()
        parts = tuple(
            part for part, on in (("FOCUS", focus[0] > 0.0), ("GLOW", values.glow > 0.0), ("TRAILS", kept > 0.0)) if on
        )
        program = self.compose_programs[parts]
        program.use()
        if focus[0] > 0.0:
            self._set_focus(program, *focus)
        _bind(program, "picture", 0, picture)
        _bind(program, "bloom", 1, bloom)
        _bind(program, "previous", 2, previous)
        program.set_float("glow", values.glow)
        program.set_vec2("bloom_scale", *self._bloom_scale())
        program.set_float("kept", kept)
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)

    def delete_targets(self) -> None:
        for target in self._targets.values():
            target.delete()
        self._targets = {}


def _bind(program: ShaderProgram, name: str, unit: int, texture: int) -> None:
    GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
    GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
    program.set_int(name, unit)
