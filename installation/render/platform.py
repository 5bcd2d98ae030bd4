"""How OpenGL reaches the screen, chosen by the commands before anything imports OpenGL.

PyOpenGL picks its platform once, at its first import, and pygame picks its video driver when the
display starts: a machine without an X or Wayland display (a server, CI, ``metamorph capture``)
runs pygame's ``offscreen`` driver on EGL. The commands call ``choose`` first thing; importing a
module of this package never changes the environment.
"""

from __future__ import annotations

import os


def choose(offscreen: bool) -> None:
    """Use the offscreen driver when asked (or when there is no display), and EGL with it."""
    if offscreen:
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    if os.environ.get("SDL_VIDEODRIVER") == "offscreen" or not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame's banner would clutter every command
