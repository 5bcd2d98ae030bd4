"""Diffusive Metamorphosis: a photograph becomes a live installation of diffusing spheres.

Data flows one way: ``keyframes`` (offline, diffusion) -> ``scene`` (motion and timing, no GL)
-> ``render`` (OpenGL). See the README for the commands.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("diffusive-metamorphosis")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"
