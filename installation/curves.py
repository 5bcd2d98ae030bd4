"""The easing curve, declared once for Python; ``shaders/curves.glsl`` is its GLSL twin (a test
draws it and compares), so a sphere's colour on the GPU and the backdrop's cross-fade, the
transition's layers and the procedural backend's bands all ease alike."""

from __future__ import annotations


def smoothstep(value: float) -> float:
    """Hermite ease on [0, 1], flat at both ends, so motion starts and stops without a jerk."""
    v = min(max(value, 0.0), 1.0)
    return v * v * (3.0 - 2.0 * v)
