"""Where the project's folders are, for a source checkout and for an installed package alike."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE_DIR.parent


def _in_checkout() -> bool:
    return (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "keyframes").is_dir()


def keyframes_dir() -> Path:
    """The folder that holds keyframe sequences (the demo among them).

    ``METAMORPH_KEYFRAMES`` wins; a source checkout uses its own ``keyframes/``; an installed
    package uses the user's cache folder, so that nothing is written into site-packages.
    """
    override = os.environ.get("METAMORPH_KEYFRAMES")
    if override:
        return Path(override).expanduser()
    if _in_checkout():
        return _CHECKOUT / "keyframes"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "metamorph" / "keyframes"


def shaders_dir() -> Path:
    """The GLSL files: the checkout's ``shaders/`` (edited live), else the installed copy."""
    checkout = _CHECKOUT / "shaders"
    return checkout if checkout.is_dir() else PACKAGE_DIR / "shaders"
