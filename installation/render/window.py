"""The pygame window that holds the OpenGL context: windowed, full screen, or offscreen.

Without a display, pygame's ``offscreen`` driver gives a real OpenGL context on EGL (Mesa
llvmpipe on a server), which is how the live loop runs in tests.

Two things about SDL that a long-running show must not inherit:

- The offscreen driver draws into an EGL pbuffer, and swapping a pbuffer does nothing (the EGL
  specification says so): no flush, no wait. Mesa then queues frame after frame of commands and
  uploaded vertex data that are never executed; measured on Mesa llvmpipe, 30,000 points uploaded
  per frame grew the process from 146 to 524 MB in 300 frames, and ``metamorph play`` from 142 MB
  to 1.6 GB in 12 s, with frames of many seconds while the backlog was worked off. On that driver
  ``swap()`` ends the frame with ``glFinish`` instead: the frame is executed, memory stays flat
  (147 MB after the same 300 frames) and the loop is paced by the renderer as a swap would.
- SDL's video start installs its own SIGINT/SIGTERM handlers, which turn the signal into a quit
  event that a loop without an event queue never reads: ``kill`` and ``systemctl stop`` were
  swallowed. The window tells SDL to install none, so SIGTERM keeps Python's disposition (the
  default, or the handler the command set).
"""

from __future__ import annotations

import os
import signal
import threading

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
        # Read by SDL when its event subsystem starts, which display.init() does.
        os.environ["SDL_NO_SIGNAL_HANDLERS"] = "1"
        try:
            pygame.display.init()
        except pygame.error as error:
            raise UserError(
                f"No display could be opened ({error}); run `metamorph capture` to render offline, "
                "or set SDL_VIDEODRIVER=offscreen to run the player without a screen."
            ) from error
        _release_termination_signals()
        # A pbuffer, whose swap neither flushes nor waits: swap() finishes the frame itself.
        self.offscreen = pygame.display.get_driver() == "offscreen"
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
        """Show the frame; offscreen, execute it (see the module's note on pbuffers)."""
        if self.offscreen:
            GL.glFinish()
        else:
            pygame.display.flip()

    def close(self) -> None:
        pygame.display.quit()


def _release_termination_signals() -> None:
    """Give SIGTERM and SIGINT back to Python if SDL took them anyway.

    The hint is too late when something started SDL's events before the window (``pygame.init()``);
    SDL only takes a signal whose disposition was the default, so where Python still sees the
    default, the handler in place is SDL's and is reset. Only the main thread may set handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for number in (signal.SIGTERM, signal.SIGINT):
        if signal.getsignal(number) is signal.SIG_DFL:
            signal.signal(number, signal.SIG_DFL)


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
