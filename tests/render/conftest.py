"""A real OpenGL context (pygame offscreen on Mesa llvmpipe) for every render test module."""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import pytest

from installation.paths import shaders_dir
from installation.render.renderer import Renderer, read_pixels
from installation.render.window import PygameWindow
from installation.scene.show import Show

SIZE = (160, 96)


@pytest.fixture(scope="module")
def gl_window() -> Iterator[PygameWindow]:
    window = PygameWindow(SIZE, vsync=False)
    yield window
    window.close()


Draw = Callable[[Renderer, float | None], np.ndarray]


@pytest.fixture
def draw(gl_window: PygameWindow) -> Draw:
    """Render the show at transition progress ``p`` (None: at rest) and read the pixels back."""

    def render(renderer: Renderer, progress: float | None) -> np.ndarray:
        conductor = renderer.show.conductor
        if progress is not None:
            if conductor.target is None:
                conductor.next()
            conductor.progress = progress
        renderer.draw(renderer.show.frame_state(), SIZE)
        return read_pixels(SIZE)

    return render


def make_renderer(show: Show, folder=None) -> Renderer:
    return Renderer(show, folder or shaders_dir())
