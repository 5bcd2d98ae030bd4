"""A real OpenGL context (pygame offscreen on Mesa llvmpipe) for every render test module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from installation.paths import shaders_dir
from installation.render.readback import read_pixels
from installation.render.renderer import Renderer
from installation.render.window import PygameWindow
from installation.scene.show import Show, frame_state, transition_frame

SIZE = (160, 96)


@pytest.fixture(scope="module")
def gl_window() -> Iterator[PygameWindow]:
    window = PygameWindow(SIZE, vsync=False)
    yield window
    window.close()


@dataclass
class Rig:
    """A renderer and the show it draws (attributes of the renderer are reachable directly)."""

    renderer: Renderer
    show: Show

    def __getattr__(self, name: str):
        return getattr(self.renderer, name)


Draw = Callable[[Rig, float | None], np.ndarray]


@pytest.fixture
def draw(gl_window: PygameWindow) -> Draw:
    """Render the show at rest (None) or at progress ``p`` from keyframe 0 to 1, and read the pixels back."""

    def render(rig: Rig, progress: float | None) -> np.ndarray:
        show, values = rig.show, rig.show.parameters.values()
        if progress is None:
            state = frame_state(show.stage, show.conductor.state(), values)
        else:
            state = transition_frame(show.stage, 0, 1, progress, values)
        rig.renderer.draw(state, SIZE)
        return read_pixels(SIZE)

    return render


def make_renderer(show: Show, folder: Path | None = None) -> Rig:
    return Rig(Renderer(folder or shaders_dir()), show)
