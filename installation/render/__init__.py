"""OpenGL: the window, shader programs, textures, the sphere field and the frame composer.

PyOpenGL picks its platform once, at its first import: a machine without an X or Wayland display
(a server, CI, ``metamorph capture``) runs pygame's offscreen driver on EGL, so EGL must be chosen
here, before any module of this package imports OpenGL.
"""

import os

if os.environ.get("SDL_VIDEODRIVER") == "offscreen" or not (
    os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
):
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
