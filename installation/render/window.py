"""The pygame window that holds the OpenGL context: windowed, full screen, or offscreen.

Without a display, pygame's ``offscreen`` driver gives a real OpenGL context on EGL (Mesa
llvmpipe on a server), which is how the live loop runs in tests.
"""

from __future__ import annotations

import os

import pygame
from OpenGL import GL
from OpenGL.error import Error as GLError  # noqa: F401  (for the loop: a lost context)

from installation.errors import UserError

MIN_GL = (3, 3)


class PygameWindow:
    """An OpenGL 3.3 core context in a pygame window."""

    def __init__(
        self,
        size: tuple[int, int],
        fullscreen: bool = False,
        display: int = 0,
        vsync: bool = True,
        title: str = "Diffusive Metamorphosis",
        hidden: bool = False,
    ) -> None:
        _require_display()
        try:
            pygame.display.init()
        except pygame.error as error:
            raise UserError(
                f"No display could be opened ({error}); run `metamorph capture` to render offline, "
                "or set SDL_VIDEODRIVER=offscreen to run the player without a screen."
            ) from error
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MAJOR_VERSION, MIN_GL[0])
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MINOR_VERSION, MIN_GL[1])
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_PROFILE_MASK, pygame.GL_CONTEXT_PROFILE_CORE)
        pygame.display.gl_set_attribute(pygame.GL_DEPTH_SIZE, 24)
        self.fullscreen = fullscreen
        self.display = min(max(display, 0), max(pygame.display.get_num_displays() - 1, 0))
        self._windowed_size = size
        self._vsync = vsync
        self._hidden = hidden
        try:
            self._open(size)
        except pygame.error as error:
            raise UserError(
                f"OpenGL {MIN_GL[0]}.{MIN_GL[1]} core is needed but {_describe_default_gl(size)}; update "
                "the graphics driver, or use Mesa's software renderer (LIBGL_ALWAYS_SOFTWARE=1)."
            ) from error
        pygame.display.set_caption(title)
        check_gl_version()

    def _open(self, size: tuple[int, int]) -> None:
        flags = pygame.OPENGL | pygame.DOUBLEBUF | (pygame.HIDDEN if self._hidden else 0)
        if self.fullscreen:
            flags |= pygame.FULLSCREEN
            size = (0, 0)
        else:
            flags |= pygame.RESIZABLE
        try:
            pygame.display.set_mode(size, flags, display=self.display, vsync=int(self._vsync))
        except pygame.error:
            if not self._vsync:
                raise
            pygame.display.set_mode(size, flags, display=self.display)  # vsync refused by the driver
        pygame.mouse.set_visible(not self.fullscreen)

    @property
    def size(self) -> tuple[int, int]:
        return pygame.display.get_window_size()

    def toggle_fullscreen(self) -> None:
        self.fullscreen = not self.fullscreen
        pygame.display.toggle_fullscreen()
        pygame.mouse.set_visible(not self.fullscreen)

    def swap(self) -> None:
        pygame.display.flip()

    def close(self) -> None:
        pygame.display.quit()


def _require_display() -> None:
    if os.environ.get("SDL_VIDEODRIVER") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    raise UserError(
        "No display was found (DISPLAY is not set); run `metamorph capture` to render offline, "
        "or set SDL_VIDEODRIVER=offscreen to run the player without a screen."
    )


def _describe_default_gl(size: tuple[int, int]) -> str:
    """What the driver offers when asked for no particular version, for the error message."""
    for attribute in (pygame.GL_CONTEXT_MAJOR_VERSION, pygame.GL_CONTEXT_MINOR_VERSION, pygame.GL_CONTEXT_PROFILE_MASK):
        pygame.display.gl_set_attribute(attribute, 0)
    try:
        pygame.display.set_mode(size, pygame.OPENGL | pygame.HIDDEN)
        return _renderer_and_version()
    except pygame.error as error:
        return f"no OpenGL context could be created at all ({error})"


def _renderer_and_version() -> str:
    version = (GL.glGetString(GL.GL_VERSION) or b"?").decode(errors="replace")
    renderer = (GL.glGetString(GL.GL_RENDERER) or b"?").decode(errors="replace")
    return f"{renderer} offers OpenGL {version}"


def check_gl_version() -> None:
    """Refuse contexts older than OpenGL 3.3, naming the renderer found."""
    version = (GL.glGetString(GL.GL_VERSION) or b"?").decode(errors="replace")
    numbers = [int(part) for part in version.split(" ")[0].split(".")[:2] if part.isdigit()]
    if tuple(numbers) < MIN_GL:
        raise UserError(
            f"OpenGL {MIN_GL[0]}.{MIN_GL[1]} core is needed but {_renderer_and_version()}; update the "
            "graphics driver, or use Mesa's software renderer (LIBGL_ALWAYS_SOFTWARE=1)."
        )
