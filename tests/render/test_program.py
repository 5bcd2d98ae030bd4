"""Shader loading: includes, hot reload, and a broken shader that leaves the last good one running."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from OpenGL import GL

from installation.errors import UserError
from installation.paths import shaders_dir
from installation.render.program import ShaderProgram
from installation.render.readback import read_pixels
from installation.scene.show import Show
from installation.scene.stage import prepare_stage
from tests.helpers import sequence_of
from tests.render.conftest import SIZE, make_renderer


@pytest.fixture
def shader_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "shaders"
    shutil.copytree(shaders_dir(), folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def grey_show() -> Show:
    frames = [np.full((SIZE[1], SIZE[0], 3), 150, np.uint8)] * 2
    show = Show(prepare_stage(sequence_of(frames), 16))
    show.parameters.set("backdrop", 0.0, immediate=True)  # only the spheres, which the edits change
    return show


def test_broken_shader_keeps_the_last_good_one(gl_window, draw, shader_copy: Path) -> None:
    renderer = make_renderer(grey_show(), shader_copy)
    before = draw(renderer, 0.5)
    original = (shader_copy / "spheres.frag").read_text()
    edit(shader_copy / "spheres.frag", "if (edge <= 0.0) discard;", "if (edge <= 0.0) discard")
    assert renderer.spheres_program.reload() is False
    assert renderer.spheres_program.error.startswith("spheres.frag: ")
    assert "error" in renderer.spheres_program.error.lower()
    assert np.array_equal(draw(renderer, 0.5), before)

    (shader_copy / "spheres.frag").write_text(original)
    edit(shader_copy / "spheres.frag", "lit, shading), edge);", "lit, shading) * vec3(1.0, 0.0, 0.0), edge);")
    assert renderer.spheres_program.reload() is True
    assert renderer.spheres_program.error is None
    after = draw(renderer, 0.5)
    assert after[..., 1].max() == 0 and after[..., 0].max() > 100


def test_an_included_file_change_reloads_too(gl_window, draw, shader_copy: Path) -> None:
    renderer = make_renderer(grey_show(), shader_copy)
    renderer.show.parameters.set("brightness", 1.0, immediate=True)
    before = draw(renderer, None)
    edit(shader_copy / "grade.glsl", "grade_matrix * rgb, 0.0, 1.0)", "grade_matrix * rgb * 0.5, 0.0, 1.0)")
    assert renderer.image_program.reload() is True
    assert draw(renderer, None).mean() < 0.6 * before.mean()


def test_unchanged_files_are_not_rebuilt(gl_window, shader_copy: Path) -> None:
    renderer = make_renderer(grey_show(), shader_copy)
    assert renderer.spheres_program.reload() is False and renderer.spheres_program.error is None


def test_a_shader_broken_at_start_is_one_sentence(gl_window, shader_copy: Path) -> None:
    edit(shader_copy / "image.frag", "out vec4 colour;", "out vec4 colour")
    with pytest.raises(UserError, match=r"^The shaders in .* do not compile \(image.frag: .*\); fix them"):
        make_renderer(grey_show(), shader_copy)


def test_defines_make_variants_of_one_file(gl_window, tmp_path: Path) -> None:
    """A part compiled out costs nothing on a software renderer, where a branch would run both sides."""
    shutil.copy(shaders_dir() / "post.vert", tmp_path / "post.vert")
    (tmp_path / "flat.frag").write_text(
        "#version 330 core\nout vec4 colour;\n"
        "void main() {\n#ifdef RED\n    colour = vec4(1.0, 0.0, 0.0, 1.0);\n#else\n"
        "    colour = vec4(0.0, 0.0, 1.0, 1.0);\n#endif\n}\n"
    )
    quad = GL.glGenVertexArrays(1)
    GL.glBindVertexArray(quad)
    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
    GL.glViewport(0, 0, *SIZE)
    GL.glDisable(GL.GL_BLEND)
    seen = []
    for defines in ((), ("RED",)):
        ShaderProgram(tmp_path, "post.vert", "flat.frag", defines).use()
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
        seen.append(tuple(read_pixels(SIZE)[SIZE[1] // 2, SIZE[0] // 2]))
    GL.glDeleteVertexArrays(1, [quad])
    assert seen == [(0, 0, 255), (255, 0, 0)]
