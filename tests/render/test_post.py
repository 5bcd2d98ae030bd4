"""Post passes (glow, trails, depth of field) and the fit, drawn on llvmpipe."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from installation.keyframes.demo import alpine_scene
from installation.keyframes.images import to_uint8
from installation.render.framebuffer import Framebuffer
from installation.render.post import TRAILS_MEMORY
from installation.scene.parameters import ParameterValues
from installation.scene.show import FrameState, Show, transition_frame
from installation.scene.stage import Stage, prepare_stage
from tests.helpers import sequence_of
from tests.render.conftest import SIZE, make_renderer

LOUD = ParameterValues(diffusion=0.8, follow=0.0, size=0.8, shading=1.0, backdrop=0.0)


@pytest.fixture(scope="module")
def stage() -> Stage:
    scene = to_uint8(alpine_scene(*SIZE))
    return prepare_stage(sequence_of([scene, np.ascontiguousarray(scene[::-1])]), 40)


def drawn(states: list[FrameState]) -> list[np.ndarray]:
    """Each state drawn in turn by one fresh renderer into an offscreen frame, as play and capture do."""
    rig, target = make_renderer(Show(states[0].stage)), Framebuffer(SIZE)
    frames = []
    for state in states:
        target.bind()
        rig.renderer.draw(state, SIZE)
        frames.append(target.read().astype(int))
    target.delete()
    return frames


def at(stage: Stage, progress: float, **values: float) -> FrameState:
    return transition_frame(stage, 0, 1, progress, dataclasses.replace(LOUD, **values))


def test_glow_spreads_light_from_bright_parts_into_dark_ones(gl_window, stage) -> None:
    plain, glowing = drawn([at(stage, 0.5), at(stage, 0.5, glow=1.5)])
    dark = plain.max(axis=-1) < 20
    assert dark.mean() > 0.1
    assert glowing[dark].mean() > plain[dark].mean() + 0.25
    assert glowing.mean() > plain.mean() + 3
    assert (glowing >= plain - 1).all()


def test_trails_keep_the_last_frames_fading_behind_moving_spheres(gl_window, stage) -> None:
    states = [dataclasses.replace(at(stage, 0.4 + 0.02 * i, trails=0.9), time=i / 60) for i in range(4)]
    with_trails = drawn(states)
    without = drawn([dataclasses.replace(s, values=dataclasses.replace(s.values, trails=0.0)) for s in states])
    assert (with_trails[0] == without[0]).all()  # the first frame has no past
    assert with_trails[-1].mean() > without[-1].mean() + 5
    assert (with_trails[-1] >= np.floor(with_trails[-2] * 0.9) - 2).all()
    assert all((a == b).all() for a, b in zip(drawn(states), with_trails, strict=True))  # a function of the frames


def test_depth_of_field_softens_spheres_away_from_the_picture(gl_window, stage) -> None:
    sharp, soft = drawn([at(stage, 0.5), at(stage, 0.5, defocus=2.0)])

    def detail(frame: np.ndarray) -> float:
        grey = frame.mean(axis=-1)
        return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())

    assert detail(soft) < 0.8 * detail(sharp)


def test_passes_off_draw_what_the_direct_path_draws(gl_window, stage) -> None:
    """A frame with every pass at 0 after frames with passes on is the plain frame again."""
    plain = drawn([at(stage, 0.5)])[0]
    after_post = drawn([at(stage, 0.45, glow=1.0, trails=0.9), at(stage, 0.5)])[1]
    assert (after_post == plain).all()


def test_cover_fills_the_frame_where_contain_letterboxes(gl_window) -> None:
    wide = to_uint8(alpine_scene(200, 80))
    wide_stage = prepare_stage(sequence_of([wide, wide]), 50)
    contain, cover = drawn([at(wide_stage, 0.0, cover=0.0), at(wide_stage, 0.0, cover=1.0)])
    assert contain[:10].max() == 0 and contain[-10:].max() == 0
    assert cover[:10].mean() > 40 and cover[-10:].mean() > 20


def trail_left(fps: int, seconds: float) -> float:
    """The mean level a bright picture leaves in the trails after ``seconds`` of black at ``fps``."""
    scene = to_uint8(alpine_scene(*SIZE))
    bright_then_black = prepare_stage(sequence_of([scene, np.zeros_like(scene)]), 40)
    values = dataclasses.replace(LOUD, trails=0.95)
    bright = transition_frame(bright_then_black, 0, 0, 0.0, values)
    black = transition_frame(bright_then_black, 1, 1, 0.0, values)
    steps = round(seconds * fps)
    frames = drawn([bright, *(dataclasses.replace(black, time=i / fps) for i in range(1, steps + 1))])
    assert frames[0].mean() > 60  # the picture was there to leave a trail
    return float(frames[-1].mean() / frames[0].mean())


def test_trails_fade_per_second_not_per_frame(gl_window) -> None:
    left = {fps: trail_left(fps, 0.5) for fps in (24, 30, 60)}
    expected = 0.95 ** (0.5 * 60)  # trails is the share kept over each 1/60 s
    for fps, share in left.items():
        assert share == pytest.approx(expected, abs=0.02), fps


def test_every_trace_of_a_frame_is_gone_after_the_trails_memory(gl_window) -> None:
    assert trail_left(240, TRAILS_MEMORY / 240) == 0.0  # at 240 fps each frame keeps 0.987 of it
