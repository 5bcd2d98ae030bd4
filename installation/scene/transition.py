"""The three acts of a transition: the picture dissolves into spheres, they travel, they settle."""

from __future__ import annotations

from dataclasses import dataclass

from installation.curves import smoothstep

FADE = 0.15
"""Share of a transition spent cross-fading at each end."""


@dataclass(frozen=True)
class Blend:
    """How much of each layer a frame shows.

    ``image_a`` and ``image_b`` are the opacities of the full-resolution keyframes drawn over
    the spheres; ``motion`` is how far along their bridges the spheres are (0 = in keyframe A's
    grid, 1 = in keyframe B's).
    """

    image_a: float
    image_b: float
    motion: float

    @property
    def spheres(self) -> float:
        return 1.0 - self.image_a - self.image_b


REST = Blend(image_a=1.0, image_b=0.0, motion=0.0)


def blend(progress: float, fade: float = FADE) -> Blend:
    """The layer mix at ``progress`` in [0, 1] of a transition."""
    p = min(max(progress, 0.0), 1.0)
    return Blend(
        image_a=1.0 - smoothstep(p / fade),
        image_b=smoothstep((p - (1.0 - fade)) / fade),
        motion=smoothstep((p - fade) / (1.0 - 2.0 * fade)),
    )
