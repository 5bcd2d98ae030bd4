"""The post passes against references computed in numpy on a small target.

The passes read their taps in fewer, shared reads (the glow's 9-tap Gaussian in 5 filtered reads,
the depth of field's spiral as a table) than the look's definition; these tests hold them to the
definition: a frame and its depth are put into the chain's scene, the passes run, and the result
stays within 3 of 255 of the same blur computed tap by tap here.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from OpenGL import GL

from installation.paths import shaders_dir
from installation.render.framebuffer import Framebuffer
from installation.render.post import GLOW_SCALE, PostChain
from installation.scene.parameters import ParameterValues

SIZE = (70, 42)
"""Not a multiple of GLOW_SCALE: the glow's last texel reaches past the frame's edge."""
GAUSSIAN = np.array([0.016216, 0.054054, 0.1216216, 0.1945946, 0.227027, 0.1945946, 0.1216216, 0.054054, 0.016216])
GOLDEN_ANGLE = 2.39996323


def spiral() -> np.ndarray:
    """The depth of field's 24 taps: tap i at sqrt((i + 0.5) / 24) of the radius, i golden angles round."""
    i = np.arange(24)
    return np.sqrt((i + 0.5) / 24)[:, None] * np.stack([np.cos(i * GOLDEN_ANGLE), np.sin(i * GOLDEN_ANGLE)], -1)


def bilinear(picture: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``picture`` (rows from the bottom) filtered at pixel coordinates (x, y), clamped to its edges."""
    height, width = picture.shape[:2]
    x, y = x - 0.5, y - 0.5
    left, bottom = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - left)[..., None], (y - bottom)[..., None]

    def at(column: np.ndarray, row: np.ndarray) -> np.ndarray:
        return picture[np.clip(row, 0, height - 1), np.clip(column, 0, width - 1)]

    low = at(left, bottom) * (1 - fx) + at(left + 1, bottom) * fx
    high = at(left, bottom + 1) * (1 - fx) + at(left + 1, bottom + 1) * fx
    return low * (1 - fy) + high * fy


def focus_reference(picture: np.ndarray, depth: np.ndarray, strength: float, reach: float) -> np.ndarray:
    """focus.glsl tap by tap: each pixel blurred over a disc as wide as its distance from depth 0.5."""
    height, width = depth.shape
    radius = np.where(depth >= 1.0, 0.0, np.minimum(strength * reach * np.abs(depth - 0.5) * 12.0, 24.0))
    rows, columns = np.mgrid[0:height, 0:width]
    total, weight = np.zeros_like(picture), np.zeros(depth.shape)
    for dx, dy in spiral():
        ox, oy = radius * dx, radius * dy
        near = radius[
            np.clip(rows + np.floor(oy + 0.5).astype(int), 0, height - 1),
            np.clip(columns + np.floor(ox + 0.5).astype(int), 0, width - 1),
        ]
        w = np.clip(near / np.maximum(radius, 1e-9), 0.2, 1.0)
        total += bilinear(picture, columns + 0.5 + ox, rows + 0.5 + oy) * w[..., None]
        weight += w
    return np.where((radius < 0.5)[..., None], picture, total / weight[..., None])


def glow_reference(picture: np.ndarray, glow: float) -> np.ndarray:
    """The glow as first defined: the bright parts at a quarter of the size, 9 taps along x on the
    frame, 9 along y on the quarter-size picture, added back at three times ``glow``."""
    height, width = picture.shape[:2]
    across, down = -(-width // GLOW_SCALE), -(-height // GLOW_SCALE)
    rows, columns = np.mgrid[0:down, 0:across]

    def bright(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        rgb = bilinear(picture, x, y)
        t = np.clip((rgb @ [0.2126, 0.7152, 0.0722] - 0.45) / 0.55, 0.0, 1.0)
        return rgb * (t * t * (3 - 2 * t))[..., None]

    def centre(index: np.ndarray) -> np.ndarray:
        """A quarter-size texel's centre, in pixels."""
        return (index + 0.5) * GLOW_SCALE

    along_x = sum(w * bright(centre(columns + i - 4), centre(rows)) for i, w in enumerate(GAUSSIAN))
    bloom = sum(w * along_x[np.clip(rows + i - 4, 0, down - 1), columns] for i, w in enumerate(GAUSSIAN))
    y, x = np.mgrid[0:height, 0:width]
    added = bilinear(bloom, (x + 0.5) / GLOW_SCALE, (y + 0.5) / GLOW_SCALE)
    return np.minimum(picture + 3.0 * glow * added, 1.0)


@pytest.fixture
def scene() -> tuple[np.ndarray, np.ndarray]:
    """A frame (rows from the bottom, RGB in [0, 1]) of bright discs and stripes on a dark ground,
    and a depth per pixel: the plane (0.5), near and far of it, and nothing (1.0)."""
    rng = np.random.default_rng(26)
    y, x = np.mgrid[0 : SIZE[1], 0 : SIZE[0]]
    picture = np.zeros((*SIZE[::-1], 3)) + rng.uniform(0.0, 0.15, 3)
    for cx, cy, r in ((14, 12, 7), (40, 24, 9), (60, 10, 6), (5, 35, 5)):
        picture[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = rng.uniform(0.5, 1.0, 3)
    picture[(x // 3) % 4 == 0] *= 0.3
    depth = np.full(SIZE[::-1], 1.0)
    depth[x < 30] = 0.5
    depth[(x >= 30) & (y < 30)] = 0.54
    depth[(x >= 50)] = 0.3
    return np.round(picture * 255) / 255, depth


def run_chain(picture: np.ndarray, depth: np.ndarray, values: ParameterValues) -> np.ndarray:
    """``picture`` and ``depth`` as the chain's scene, its passes run with ``values``: the output,
    rows from the bottom, in [0, 1]."""
    output = Framebuffer(SIZE)
    chain = PostChain(shaders_dir())
    output.bind()
    chain.begin(SIZE)
    colour = np.concatenate([picture, np.ones((*SIZE[::-1], 1))], -1)
    scene = chain._targets["scene"]
    GL.glBindTexture(GL.GL_TEXTURE_2D, scene.colour)
    GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, *SIZE, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, np.uint8(colour * 255))
    GL.glBindTexture(GL.GL_TEXTURE_2D, scene.depth)
    GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, *SIZE, GL.GL_DEPTH_COMPONENT, GL.GL_FLOAT, np.float32(depth))
    chain.finish(values, 0.0, (0, 0, *SIZE), SIZE[1])
    drawn = output.read()[::-1] / 255.0
    chain.delete_targets()
    output.delete()
    return drawn


def test_the_spiral_table_is_the_golden_angle_spiral() -> None:
    table = re.search(r"SPIRAL\[TAPS\] = vec2\[\]\((.*?)\);", (shaders_dir() / "focus.glsl").read_text(), re.S)
    assert table is not None
    taps = np.array(re.findall(r"vec2\(([^,]+), ([^)]+)\)", table[1]), float)
    assert np.abs(taps - spiral()).max() < 1e-5  # float32 angles: a millionth of the widest disc


def test_depth_of_field_is_its_tap_by_tap_definition(gl_window, scene) -> None:
    picture, depth = scene
    drawn = run_chain(picture, depth, ParameterValues(defocus=1.5))
    expected = focus_reference(picture, depth, 1.5, SIZE[1] / 40)
    assert np.abs(drawn - expected).max() <= 3 / 255


def test_depth_of_field_blurs_spheres_far_from_the_picture_more_than_near_it(gl_window, scene) -> None:
    picture, depth = scene
    drawn = run_chain(picture, depth, ParameterValues(defocus=2.0))
    change = np.abs(drawn - picture).max(axis=-1)
    in_plane, near_it, far_from_it = depth == 0.5, depth == 0.54, depth == 0.3
    assert change[in_plane].max() == 0.0 and change[depth == 1.0].max() == 0.0  # sharp: the plane, no sphere
    assert change[far_from_it].mean() > 1.5 * change[near_it].mean() > 0.0


def test_glow_is_the_nine_tap_blur_it_was_defined_as(gl_window, scene) -> None:
    picture, depth = scene
    drawn = run_chain(picture, depth, ParameterValues(glow=1.5))
    expected = glow_reference(picture, 1.5)
    assert np.abs(drawn - expected).max() <= 3 / 255
    assert (drawn - picture).max() > 0.2  # and it did glow
