"""The one registry of live parameters: name, range, default, smoothing.

OSC, the keyboard, sound and the config file all write through ``Parameters.set``; the scene
reads the smoothed values once per frame. Values are clamped to their range; NaN and inf are
refused, so no input can push the show into a state it cannot draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """A named, bounded value. ``smoothing`` is the time constant in seconds (0: immediate)."""

    name: str
    minimum: float
    maximum: float
    default: float
    smoothing: float = 0.0
    help: str = ""

    def clamp(self, value: float) -> float:
        return min(max(value, self.minimum), self.maximum)

    @property
    def address(self) -> str:
        """Its OSC address: ``audio_gain`` is ``/audio/gain``."""
        return "/" + self.name.replace("_", "/")

    @property
    def flag(self) -> str:
        """Its command-line option: ``size`` is ``--sphere-size``, ``audio_gain`` ``--audio-gain``."""
        return "--" + {"size": "sphere-size"}.get(self.name, self.name.replace("_", "-"))


PLAYER_PARAMETERS = (
    Parameter("speed", 0.0, 8.0, 1.0, 0.3, "how fast the show runs (1 = the set times)"),
    Parameter("hold", 0.0, 120.0, 3.0, 0.0, "seconds each keyframe rests on screen"),
    Parameter("duration", 0.2, 120.0, 6.0, 0.0, "seconds a transition lasts"),
    Parameter("diffusion", 0.0, 2.0, 0.2, 0.3, "how far spheres wander (Brownian bridge amplitude)"),
    Parameter("size", 0.1, 2.0, 0.9, 0.2, "sphere diameter relative to its grid cell"),
    Parameter("terms", 1.0, 32.0, 12.0, 0.0, "Brownian bridge terms (detail of the paths)"),
    Parameter("hue", -180.0, 180.0, 0.0, 0.3, "hue rotation in degrees"),
    Parameter("saturation", 0.0, 2.0, 1.0, 0.3, "colour saturation (1 = as made)"),
    Parameter("brightness", 0.0, 2.0, 1.0, 0.3, "brightness (1 = as made)"),
    Parameter("blackout", 0.0, 1.0, 0.0, 0.5, "fade to black (1 = black)"),
    Parameter("audio_gain", 0.0, 4.0, 1.0, 0.0, "how strongly sound steers the show (0 = not at all)"),
    Parameter("audio_speed", 0.0, 2.0, 0.6, 0.0, "how much loud passages speed transitions up"),
    Parameter("audio_color", 0.0, 2.0, 0.6, 0.0, "how much level and bands shift hue, saturation and brightness"),
)


class Parameters:
    """Current targets and smoothed values of a set of parameters."""

    def __init__(self, specs: tuple[Parameter, ...] = PLAYER_PARAMETERS) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self._target = {spec.name: spec.default for spec in specs}
        self._value = dict(self._target)

    def set(self, name: str, value: float, immediate: bool = False) -> bool:
        """Aim ``name`` at ``value`` (clamped). Unknown names and non-finite values return False."""
        spec = self.specs.get(name)
        if spec is None or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        self._target[name] = spec.clamp(float(value))
        if immediate or spec.smoothing == 0.0:
            self._value[name] = self._target[name]
        return True

    def nudge(self, name: str, delta: float) -> bool:
        """Move ``name``'s target by ``delta`` (keys and relative controls)."""
        return self.set(name, self._target[name] + delta)

    def step(self, dt: float) -> None:
        """Advance the smoothing by ``dt`` seconds (exponential approach to the target)."""
        for name, spec in self.specs.items():
            if spec.smoothing > 0.0:
                share = 1.0 - math.exp(-max(dt, 0.0) / spec.smoothing)
                self._value[name] += (self._target[name] - self._value[name]) * share

    def __getitem__(self, name: str) -> float:
        return self._value[name]

    def target(self, name: str) -> float:
        return self._target[name]

    def targets(self) -> dict[str, float]:
        """Every value as last set, before smoothing (what controllers are told)."""
        return dict(self._target)

    def snapshot(self) -> dict[str, float]:
        """Every smoothed value, for displays and status messages."""
        return dict(self._value)
