"""A frame drawn from the wire form is the sender's frame, byte for byte (``scene/wire.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from installation.keyframes.demo import alpine_scene
from installation.keyframes.images import to_uint8
from installation.render.framebuffer import Framebuffer
from installation.scene.parameters import Parameters
from installation.scene.show import FrameState, Show
from installation.scene.stage import prepare_stage
from installation.scene.wire import decode, encode
from tests.helpers import sequence_of
from tests.render.conftest import SIZE, make_renderer


def states_of_a_look(look: dict[str, float], frames: int) -> list[FrameState]:
    """``frames`` states of a show through its first transition, drawn with ``look``."""
    scene = to_uint8(alpine_scene(*SIZE))
    stage = prepare_stage(sequence_of([scene, 255 - scene]), 40)
    parameters = Parameters()
    for name, value in {"hold": 0.1, "duration": 1.0, **look}.items():
        parameters.set(name, value, immediate=True)
    show = Show(stage, parameters=parameters)
    return [show.advance(1 / 30, time=i / 30) for i in range(frames)]


def drawn(states: list[FrameState]) -> list[np.ndarray]:
    rig, target = make_renderer(Show(states[0].stage)), Framebuffer(SIZE)
    frames = []
    for state in states:
        target.bind()
        rig.renderer.draw(state, SIZE)
        frames.append(target.read())
    target.delete()
    return frames


@pytest.mark.parametrize(
    "look", [{}, {"glow": 1.0, "defocus": 0.8, "trails": 0.8, "hue": 40.0, "diffusion": 0.5, "cover": 0.5}]
)
def test_frames_drawn_from_decoded_states_are_the_senders(gl_window, look: dict[str, float]) -> None:
    sent = states_of_a_look(look, 24)
    assert any(state.conductor.moving for state in sent)
    received = [decode(encode(state)).state(state.stage) for state in sent]
    for original, copy in zip(drawn(sent), drawn(received), strict=True):
        assert np.array_equal(original, copy)
