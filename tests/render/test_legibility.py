"""Under the default look (gentle) the picture stays bright and recognisable through a transition.

Every frame of a transition keeps at least 0.8 of the keyframes' mean brightness, and its 32x18
box-downsampled picture correlates at least 0.8 with the cross-fade of the two keyframes at the
same progress; spheres at rest tile the picture without black gaps at any output size.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from installation.keyframes.request import KeyframeRequest, Photo
from installation.keyframes.sequence import KeyframeSequence, Source
from installation.render.framebuffer import Framebuffer
from installation.render.renderer import Renderer, viewport
from installation.scene.parameters import ParameterValues
from installation.scene.show import Show, transition_frame
from installation.scene.stage import Stage, prepare_stage
from installation.scene.transition import FADE
from tests.render.conftest import make_renderer

VIEW = (320, 180)
PROGRESS = [i / 10 for i in range(11)]


def photo_like(width: int = 256, height: int = 144) -> np.ndarray:
    """A picture with a photo's statistics: a sky gradient, soft blobs, edges and grain (float sRGB)."""
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:height, 0:width] / height
    picture = np.stack([0.35 + 0.4 * y, 0.5 + 0.3 * y, 0.8 - 0.2 * y], axis=-1)
    for _ in range(12):
        cx, cy, r = rng.uniform(0, width / height), rng.uniform(0.3, 1), rng.uniform(0.05, 0.25)
        inside = ((x - cx) ** 2 + (y - cy) ** 2 < r * r)[..., None]
        picture = np.where(inside, rng.uniform(0.1, 0.95, 3), picture)
    return np.clip(picture + rng.normal(0, 0.03, picture.shape), 0, 1).astype(np.float32)


def legibility(stage: Stage, index_a: int, gl_window, values: ParameterValues) -> tuple[float, float]:
    """The worst brightness ratio and correlation over the transition from ``index_a`` to the next."""
    renderer, target = make_renderer_for(stage), Framebuffer(VIEW)
    a, b = (_fitted(stage.sequence.frames[i]) for i in (index_a, index_a + 1))
    ratios, correlations = [], []
    for progress in PROGRESS:
        target.bind()
        renderer.draw(transition_frame(stage, index_a, index_a + 1, progress, values), VIEW)
        frame = target.read().astype(float)
        cross = (1 - progress) * a + progress * b
        ratios.append(frame.mean() / ((a.mean() + b.mean()) / 2))
        correlations.append(float(np.corrcoef(_small(frame), _small(cross))[0, 1]))
    return min(ratios), min(correlations)


def make_renderer_for(stage: Stage) -> Renderer:
    return make_renderer(Show(stage)).renderer


def _fitted(frame: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(frame).resize(VIEW, Image.Resampling.BOX), float)


def _small(picture: np.ndarray) -> np.ndarray:
    """The 32x18 box-downsampled grey picture, flattened."""
    grey = Image.fromarray(picture.mean(axis=-1).astype(np.float32), mode="F")
    return np.asarray(grey.resize((32, 18), Image.Resampling.BOX)).ravel()


def _procedural_sequence(tmp_path) -> KeyframeSequence:
    from installation.keyframes.make import make_keyframes

    photo = Photo(photo_like(), Source("photo.png", "0" * 64))
    request = KeyframeRequest(prompt="wavy violet", out=tmp_path / "photo", photo=photo, captures=5, quiet=True)
    return make_keyframes(request)


@pytest.fixture(scope="module")
def photo_stage(tmp_path_factory) -> Stage:
    return prepare_stage(_procedural_sequence(tmp_path_factory.mktemp("legibility")), 96)


@pytest.mark.parametrize("index_a", [0, 2])
def test_gentle_keeps_a_photo_like_sequence_bright_and_recognisable(gl_window, photo_stage, index_a) -> None:
    brightness, correlation = legibility(photo_stage, index_a, gl_window, ParameterValues())
    assert brightness >= 0.8 and correlation >= 0.8, (brightness, correlation)


def test_the_old_default_look_failed_the_same_figures(gl_window, photo_stage) -> None:
    """The figures discriminate: the look before the gentle default went dark and scattered."""
    old = ParameterValues(diffusion=0.2, size=0.9, follow=0.0, shading=1.0, backdrop=0.0)
    brightness, _ = legibility(photo_stage, 2, gl_window, old)
    assert brightness < 0.5


@pytest.mark.slow
def test_gentle_keeps_the_demo_bright_and_recognisable(gl_window) -> None:
    from installation.keyframes.demo import demo_sequence

    stage = prepare_stage(demo_sequence(quiet=True))
    for index_a in range(0, stage.count - 1, 2):
        brightness, correlation = legibility(stage, index_a, gl_window, ParameterValues())
        assert brightness >= 0.8 and correlation >= 0.8, (index_a, brightness, correlation)


@pytest.mark.parametrize("size", [(100, 60), (160, 96), (203, 117), (333, 190), (640, 360), (97, 250), (1920, 1080)])
def test_spheres_at_rest_tile_the_picture_without_gaps(gl_window, size) -> None:
    """Spheres on their grid with neither keyframe over them and no backdrop: no black pixel inside the
    picture, whatever the output size (the grid and the picture have different aspects)."""
    frame = np.full((90, 150, 3), (200, 170, 120), np.uint8)
    stage = prepare_stage(_sequence_of([frame, frame]), 40)
    renderer = make_renderer_for(stage)
    values = ParameterValues(backdrop=0.0)
    state = transition_frame(stage, 0, 1, FADE, values)
    assert state.blend.image_a == 0.0 and state.blend.motion == 0.0
    target = Framebuffer(size)
    target.bind()
    renderer.draw(state, size)
    pixels = target.read()
    x, y, width, height = viewport(size, stage.aspect)
    inside = pixels[size[1] - y - height : size[1] - y, x : x + width]
    assert inside.max(axis=-1).min() > 100


def _sequence_of(frames: list[np.ndarray]) -> KeyframeSequence:
    from tests.helpers import sequence_of

    return sequence_of(frames)
