"""The easing curve drawn by the GPU (shaders/curves.glsl) is the Python one (installation/curves.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from OpenGL import GL

from installation.curves import smoothstep
from installation.paths import shaders_dir
from installation.render.program import ShaderProgram

PROBE = """#version 330 core
#include "curves.glsl"
in vec2 uv;
out vec4 colour;
void main() { colour = vec4(ease(uv.x * 1.4 - 0.2), 0.0, 0.0, 1.0); }
"""
WIDTH = 256


def test_the_gpus_ease_is_the_pythons(gl_window, tmp_path: Path) -> None:
    for name in ("post.vert", "curves.glsl"):
        shutil.copy(shaders_dir() / name, tmp_path / name)
    (tmp_path / "probe.frag").write_text(PROBE)
    program = ShaderProgram(tmp_path, "post.vert", "probe.frag")
    texture, framebuffer = GL.glGenTextures(1), GL.glGenFramebuffers(1)
    GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
    GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_R32F, WIDTH, 1, 0, GL.GL_RED, GL.GL_FLOAT, None)
    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, framebuffer)
    GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D, texture, 0)
    GL.glViewport(0, 0, WIDTH, 1)
    GL.glDisable(GL.GL_BLEND)
    program.use()
    GL.glBindVertexArray(GL.glGenVertexArrays(1))
    GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
    drawn = np.frombuffer(GL.glReadPixels(0, 0, WIDTH, 1, GL.GL_RED, GL.GL_FLOAT), np.float32)
    at = (np.arange(WIDTH) + 0.5) / WIDTH * 1.4 - 0.2  # past both ends too: the clamp
    expected = np.array([smoothstep(float(x)) for x in at])
    assert np.abs(drawn - expected).max() < 1e-6
    assert drawn[0] == 0.0 and drawn[-1] == 1.0
    GL.glDeleteFramebuffers(1, [framebuffer])
    GL.glDeleteTextures([texture])
