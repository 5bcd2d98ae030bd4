"""Diffusive Metamorphosis: a photograph becomes a live installation of diffusing spheres.

Data flows one way: ``keyframes`` (offline, diffusion) -> ``scene`` (motion and timing, no GL)
-> ``render`` (OpenGL). See the README for the commands.
"""

import os
from importlib.metadata import PackageNotFoundError, version

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame's banner would clutter every command

try:
    __version__ = version("diffusive-metamorphosis")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"
