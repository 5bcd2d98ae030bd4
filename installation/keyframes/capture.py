"""Which denoising steps become keyframes: shared by every backend."""

from __future__ import annotations


def capture_indices(executed: int, captures: int) -> list[int]:
    """``captures`` step indices spread evenly over ``executed`` steps, the last step always last.

    The last executed step is the final picture, so a sequence always ends on the result.
    """
    if not 1 <= captures <= executed:
        raise ValueError(f"cannot capture {captures} of {executed} steps")
    return [round((i + 1) * executed / captures) - 1 for i in range(captures)]
