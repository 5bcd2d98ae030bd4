"""Readback in every layout an output takes, checked against numpy and against ffmpeg's own
conversion to UYVY; frames taken in order, and a full ring drops frames instead of waiting."""

from __future__ import annotations

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
from OpenGL import GL

from installation.keyframes.demo import alpine_scene
from installation.keyframes.images import to_uint8
from installation.render.framebuffer import Framebuffer
from installation.render.readback import PixelFormat, PixelReader
from installation.scene.parameters import ParameterValues
from installation.scene.show import Show, transition_frame
from installation.scene.stage import prepare_stage
from tests.helpers import sequence_of
from tests.render.conftest import SIZE, make_renderer


@pytest.fixture
def drawn(gl_window) -> Framebuffer:
    """The demo scene mid-transition, drawn into an offscreen frame."""
    scene = to_uint8(alpine_scene(*SIZE))
    stage = prepare_stage(sequence_of([scene, 255 - scene]), 40)
    target = Framebuffer(SIZE)
    target.bind()
    make_renderer(Show(stage)).renderer.draw(transition_frame(stage, 0, 1, 0.4), SIZE)
    yield target
    target.delete()


def read(target: Framebuffer, pixel_format: PixelFormat) -> bytes:
    reader = PixelReader(target.size, pixel_format)
    reader.request(target)
    (data,) = reader.drain()
    reader.delete()
    return data


def test_rgb_rgba_and_bgra_are_the_picture_top_row_first(drawn: Framebuffer) -> None:
    picture = drawn.read()  # read at once, flipped by numpy
    width, height = SIZE
    rgb = np.frombuffer(read(drawn, PixelFormat.RGB), np.uint8).reshape(height, width, 3)
    rgba = np.frombuffer(read(drawn, PixelFormat.RGBA), np.uint8).reshape(height, width, 4)
    bgra = np.frombuffer(read(drawn, PixelFormat.BGRA), np.uint8).reshape(height, width, 4)
    assert picture.std() > 20  # a picture, not a blank
    assert np.array_equal(rgb, picture)
    assert np.array_equal(rgba[..., :3], picture) and (rgba[..., 3] == 255).all()
    assert np.array_equal(bgra[..., [2, 1, 0]], picture)


def test_uyvy_is_what_ffmpeg_makes_of_the_picture(drawn: Framebuffer) -> None:
    picture = drawn.read()
    width, height = SIZE
    ffmpeg = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            *("-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}"),
            *(
                "-i",
                "-",
                "-vf",
                "scale=out_color_matrix=bt709:out_range=tv:flags=neighbor+accurate_rnd+full_chroma_int",
            ),
            *("-pix_fmt", "uyvy422", "-f", "rawvideo", "-"),
        ],
        input=picture.tobytes(),
        capture_output=True,
        check=True,
    )
    ours = np.frombuffer(read(drawn, PixelFormat.UYVY), np.uint8).astype(int)
    theirs = np.frombuffer(ffmpeg.stdout, np.uint8).astype(int)
    assert ours.size == theirs.size == width * height * 2
    luma, chroma = np.abs(ours - theirs)[1::2], np.abs(ours - theirs)[0::2]
    assert luma.max() <= 1
    assert np.percentile(chroma, 99) <= 2  # ffmpeg filters chroma over its neighbours, we take the pair's mean


def test_frames_come_out_in_order_and_a_full_ring_drops(drawn: Framebuffer) -> None:
    reader = PixelReader(drawn.size, PixelFormat.BGRA, depth=1)
    accepted = [reader.offer(drawn) for _ in range(5)]
    assert accepted == [True, True, False, False, False] and reader.dropped == 3
    GL.glFinish()  # the copies are done: polling hands them over without waiting
    frames = [reader.poll() for _ in range(2)]
    assert all(frame is not None and len(frame) == SIZE[0] * SIZE[1] * 4 for frame in frames)
    assert reader.poll() is None and reader.offer(drawn)
    reader.delete()


def test_a_readback_of_another_size_is_the_frame_scaled(drawn: Framebuffer) -> None:
    width, height = SIZE
    reader = PixelReader((width // 2, height // 2), PixelFormat.RGB)
    reader.request(drawn)
    (data,) = reader.drain()
    reader.delete()
    half = np.frombuffer(data, np.uint8).reshape(height // 2, width // 2, 3).astype(int)
    picture = drawn.read().astype(int)
    mean_of_fours = (picture[0::2, 0::2] + picture[1::2, 0::2] + picture[0::2, 1::2] + picture[1::2, 1::2]) / 4
    assert np.abs(half - mean_of_fours).max() <= 1  # sampled between four pixels: their mean


def test_bgra_carries_the_spheres_over_transparency(gl_window) -> None:
    scene = to_uint8(alpine_scene(*SIZE))
    stage = prepare_stage(sequence_of([scene, 255 - scene]), 16)  # 10-pixel cells
    values = ParameterValues(backdrop=0.0, size=0.6, diffusion=0.0)  # spheres apart, nothing behind them
    target = Framebuffer(SIZE)
    target.bind()
    make_renderer(Show(stage)).renderer.draw(transition_frame(stage, 0, 1, 0.5, values), SIZE)
    alpha = np.frombuffer(read(target, PixelFormat.BGRA), np.uint8).reshape(SIZE[1], SIZE[0], 4)[..., 3]
    target.delete()
    assert (alpha == 0).mean() > 0.5 and (alpha == 255).mean() > 0.1  # between the spheres, and on them


def test_one_packer_packs_frames_of_its_size_and_scaled_ones_in_uyvy(drawn: Framebuffer) -> None:
    """The packing pass has a variant for a frame at the output's size (its texels fetched as they
    are) and one for a frame scaled to it; one reader uses each as its frames come."""
    width, height = SIZE
    small = Framebuffer((width // 2, height // 2))
    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, drawn.handle)
    GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, small.handle)
    GL.glBlitFramebuffer(0, 0, width, height, 0, 0, width // 2, height // 2, GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST)
    reader = PixelReader(small.size, PixelFormat.UYVY)
    reader.request(small)  # at the output's size
    reader.request(drawn)  # twice the output's size: scaled
    at_size, scaled = reader.drain()
    reader.delete()
    expected = uyvy_of(small.read())
    assert np.abs(np.frombuffer(at_size, np.uint8).astype(int) - expected).max() <= 1
    picture = drawn.read().astype(int)
    mean_of_fours = (picture[0::2, 0::2] + picture[1::2, 0::2] + picture[0::2, 1::2] + picture[1::2, 1::2]) / 4
    assert np.abs(np.frombuffer(scaled, np.uint8).astype(int) - uyvy_of(mean_of_fours)).max() <= 1
    small.delete()


def uyvy_of(rgb: np.ndarray) -> np.ndarray:
    """What the packing pass makes of an RGB picture (pack.frag's arithmetic in numpy), bytes U Y0 V Y1."""
    r, g, b = (rgb[..., channel].astype(np.float64) / 255 for channel in range(3))
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    mean = [(channel[:, 0::2] + channel[:, 1::2]) / 2 for channel in (r, g, b)]
    pair_luma = 0.2126 * mean[0] + 0.7152 * mean[1] + 0.0722 * mean[2]
    u = 16 + 224 * ((mean[2] - pair_luma) / 1.8556 + 0.5)
    v = 16 + 224 * ((mean[0] - pair_luma) / 1.5748 + 0.5)
    packed = np.stack([u, 16 + 219 * luma[:, 0::2], v, 16 + 219 * luma[:, 1::2]], axis=-1)
    return np.round(packed).astype(int).reshape(-1)
