"""GLSL programs loaded from ``shaders/``, with ``#include``, hot reload and kept-alive fallbacks.

A program that fails to compile on reload leaves the last good one running; its compiler log is
kept in ``error`` for the on-screen display and the log. ``defines`` make variants of one file
(``#define NAME`` after its ``#version`` line): a software renderer such as llvmpipe runs both
sides of a branch, even on a uniform, so a pass that is off must be compiled out to cost nothing.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
from OpenGL import GL

from installation.errors import UserError

log = logging.getLogger(__name__)
_INCLUDE = re.compile(r'^\s*#include\s+"([^"]+)"\s*$', re.MULTILINE)


class ShaderError(Exception):
    """A GLSL file that does not compile or link; the message holds the compiler's log."""


class ShaderProgram:
    """A vertex + fragment program built from two files of a shader folder, with ``defines``."""

    def __init__(self, folder: Path, vertex: str, fragment: str, defines: tuple[str, ...] = ()) -> None:
        self.folder = Path(folder)
        self.names = (vertex, fragment)
        self.defines = defines
        self.error: str | None = None
        self._handle = 0
        self._locations: dict[str, int] = {}
        self._stamp = self._mtimes()
        try:
            self._handle = self._build()
        except ShaderError as error:
            raise UserError(
                f"The shaders in {self.folder} do not compile ({error}); fix them or reinstall metamorph."
            ) from error

    def use(self) -> None:
        GL.glUseProgram(self._handle)

    def delete(self) -> None:
        GL.glDeleteProgram(self._handle)
        self._handle = 0

    def location(self, name: str) -> int:
        """The uniform's location (-1 when the compiler removed it as unused), cached."""
        if name not in self._locations:
            self._locations[name] = GL.glGetUniformLocation(self._handle, name)
        return self._locations[name]

    def set_float(self, name: str, value: float) -> None:
        GL.glUniform1f(self.location(name), value)

    def set_int(self, name: str, value: int) -> None:
        GL.glUniform1i(self.location(name), value)

    def set_vec2(self, name: str, x: float, y: float) -> None:
        GL.glUniform2f(self.location(name), x, y)

    def set_vec4(self, name: str, x: float, y: float, z: float, w: float) -> None:
        GL.glUniform4f(self.location(name), x, y, z, w)

    def set_uint(self, name: str, value: int) -> None:
        GL.glUniform1ui(self.location(name), value)

    def set_mat3(self, name: str, matrix: np.ndarray) -> None:
        """A 3x3 float32 matrix given row by row (numpy's order; GL is told to transpose)."""
        GL.glUniformMatrix3fv(self.location(name), 1, GL.GL_TRUE, matrix)

    def reload(self, force: bool = False) -> bool:
        """Rebuild if a file changed (or ``force``); True when a new program is in use."""
        stamp = self._mtimes()
        if not force and stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            handle = self._build()
        except ShaderError as error:
            self.error = str(error)
            log.error("shader reload failed, the last good shaders keep running: %s", error)
            return False
        GL.glDeleteProgram(self._handle)
        self._handle, self._locations, self.error = handle, {}, None
        log.info("shaders reloaded: %s", ", ".join(self.names))
        return True

    def _mtimes(self) -> tuple[float, ...]:
        return tuple(path.stat().st_mtime_ns if path.exists() else 0 for path in self.folder.glob("*.*"))

    def _build(self) -> int:
        stages = [
            _compile(GL.GL_VERTEX_SHADER, self.names[0], self._defined(self._source(self.names[0]))),
            _compile(GL.GL_FRAGMENT_SHADER, self.names[1], self._defined(self._source(self.names[1]))),
        ]
        program = GL.glCreateProgram()
        for stage in stages:
            GL.glAttachShader(program, stage)
        GL.glLinkProgram(program)
        for stage in stages:
            GL.glDeleteShader(stage)
        if not GL.glGetProgramiv(program, GL.GL_LINK_STATUS):
            message = _text(GL.glGetProgramInfoLog(program))
            GL.glDeleteProgram(program)
            raise ShaderError(f"{' + '.join(self.names)} do not link: {message}")
        return program

    def _defined(self, source: str) -> str:
        """``source`` with a ``#define`` of each of ``defines`` after its first (``#version``) line."""
        version, _, rest = source.partition("\n")
        return "\n".join([version, *(f"#define {name}" for name in self.defines), rest])

    def _source(self, name: str, depth: int = 0) -> str:
        path = self.folder / name
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ShaderError(f"{path} cannot be read ({error.strerror})") from error
        if depth > 4:
            raise ShaderError(f"{path}: #include nested too deeply")
        return _INCLUDE.sub(lambda match: self._source(match[1], depth + 1), text)


def _compile(kind: int, name: str, source: str) -> int:
    shader = GL.glCreateShader(kind)
    GL.glShaderSource(shader, source)
    GL.glCompileShader(shader)
    if not GL.glGetShaderiv(shader, GL.GL_COMPILE_STATUS):
        message = _text(GL.glGetShaderInfoLog(shader))
        GL.glDeleteShader(shader)
        raise ShaderError(f"{name}: {message}")
    return shader


def _text(log_bytes: bytes | str) -> str:
    text = log_bytes.decode(errors="replace") if isinstance(log_bytes, bytes) else log_bytes
    return " ".join(text.split())
