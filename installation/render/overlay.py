"""The on-screen display: a few lines of text drawn over the picture (fps, keyframe, parameters).

Text is rasterised by pygame's font module into a texture only when it changes, at most a few
times a second, so the display costs one textured quad per frame.
"""

from __future__ import annotations

import numpy as np
import pygame
from OpenGL import GL

from installation.render.renderer import Renderer
from installation.render.textures import Texture

_LINE = 20
_MARGIN = 10


class Overlay:
    """Lines of text in the top left corner; ``alert`` lines are drawn in red."""

    def __init__(self) -> None:
        pygame.font.init()
        self._font = pygame.font.Font(None, _LINE + 4)
        self._texture: Texture | None = None
        self._text: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self._corner: tuple[np.ndarray, Texture] | None = None

    def draw(self, renderer: Renderer, window: tuple[int, int], lines: list[str], alert: list[str]) -> None:
        text = (tuple(lines), tuple(alert))
        if text != self._text:
            self._rasterise(*text)
            self._text = text
        if self._texture is None:
            return
        width, height = self._texture.size
        GL.glViewport(_MARGIN, window[1] - height - _MARGIN, width, height)
        renderer.draw_picture(self._texture, 1.0, None)

    def corner(self, renderer: Renderer, window: tuple[int, int], pixels: np.ndarray) -> None:
        """A picture in the bottom right corner (the visitor page's QR code), uploaded once."""
        if self._corner is None or self._corner[0] is not pixels:
            self._corner = (pixels, Texture(pixels))
        height, width = pixels.shape[:2]
        GL.glViewport(window[0] - width - _MARGIN, _MARGIN, width, height)
        renderer.draw_picture(self._corner[1], 1.0, None)

    def _rasterise(self, lines: tuple[str, ...], alert: tuple[str, ...]) -> None:
        rows = [(line, (235, 235, 240)) for line in lines] + [(line, (255, 90, 90)) for line in alert]
        if not rows:
            self._texture = None
            return
        images = [self._font.render(line, True, colour) for line, colour in rows]
        width = max(image.get_width() for image in images) + 2 * _MARGIN
        surface = pygame.Surface((width, len(images) * _LINE + 2 * _MARGIN), pygame.SRCALPHA)
        surface.fill((0, 0, 0, 150))
        for row, image in enumerate(images):
            surface.blit(image, (_MARGIN, _MARGIN + row * _LINE))
        pixels = np.frombuffer(pygame.image.tobytes(surface, "RGBA"), np.uint8)
        pixels = pixels.reshape(surface.get_height(), surface.get_width(), 4)
        if self._texture is None:
            self._texture = Texture(pixels)
        else:
            self._texture.upload(pixels)
