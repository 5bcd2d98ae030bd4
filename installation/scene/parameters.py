"""The one registry of live parameters: name, range, default, smoothing.

Each parameter is declared once, as a field of ``ParameterValues`` (its default) with its range,
smoothing and help in the field's metadata; the registry, the command line, the OSC addresses
and the config file are all generated from that declaration. OSC, the keyboard, sound and the
config file write through ``Parameters.set``; the scene reads the smoothed values once per frame
as a frozen ``ParameterValues``. Values are clamped to their range; NaN and inf are refused, so
no input can push the show into a state it cannot draw.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any


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


def _declare(minimum: float, maximum: float, default: float, smoothing: float, help: str) -> Any:
    return dataclasses.field(
        default=default,
        metadata={"minimum": minimum, "maximum": maximum, "default": default, "smoothing": smoothing, "help": help},
    )


@dataclass(frozen=True)
class ParameterValues:
    """Every parameter's value for one frame: what the renderer and the conductor read."""

    speed: float = _declare(0.0, 8.0, 1.0, 0.3, "how fast the show runs (1 = the set times)")
    hold: float = _declare(0.0, 120.0, 3.0, 0.0, "seconds each keyframe rests on screen")
    duration: float = _declare(0.2, 120.0, 6.0, 0.0, "seconds a transition lasts")
    diffusion: float = _declare(0.0, 2.0, 0.2, 0.3, "how far spheres wander (Brownian bridge amplitude)")
    size: float = _declare(0.1, 2.0, 0.9, 0.2, "sphere diameter relative to its grid cell")
    terms: float = _declare(1.0, 32.0, 12.0, 0.0, "Brownian bridge terms (detail of the paths)")
    hue: float = _declare(-180.0, 180.0, 0.0, 0.3, "hue rotation in degrees")
    saturation: float = _declare(0.0, 2.0, 1.0, 0.3, "colour saturation (1 = as made)")
    brightness: float = _declare(0.0, 2.0, 1.0, 0.3, "brightness (1 = as made)")
    blackout: float = _declare(0.0, 1.0, 0.0, 0.5, "fade to black (1 = black)")
    audio_gain: float = _declare(0.0, 4.0, 1.0, 0.0, "how strongly sound steers the show (0 = not at all)")
    audio_speed: float = _declare(0.0, 2.0, 0.6, 0.0, "how much loud passages speed transitions up")
    audio_color: float = _declare(0.0, 2.0, 0.6, 0.0, "how much level and bands shift hue, saturation and brightness")

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    def clamped(self) -> ParameterValues:
        """The same values, each kept inside its parameter's range."""
        return ParameterValues(**{spec.name: spec.clamp(getattr(self, spec.name)) for spec in PLAYER_PARAMETERS})


PLAYER_PARAMETERS = tuple(Parameter(name=field.name, **field.metadata) for field in dataclasses.fields(ParameterValues))
SPECS = {spec.name: spec for spec in PLAYER_PARAMETERS}


class Parameters:
    """Current targets and smoothed values of every parameter."""

    def __init__(self) -> None:
        self.specs = SPECS
        self._target = {spec.name: spec.default for spec in PLAYER_PARAMETERS}
        self._value = dict(self._target)

    def set(self, name: str, value: float, immediate: bool = False) -> bool:
        """Aim ``name`` at ``value`` (clamped). Unknown names and non-finite values return False."""
        spec = self.specs.get(name)
        if spec is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        self._target[name] = spec.clamp(float(value))
        if immediate or spec.smoothing == 0.0:
            self._value[name] = self._target[name]
        return True

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

    def targets(self) -> ParameterValues:
        """Every value as last set, before smoothing (what controllers are told and what is saved)."""
        return ParameterValues(**self._target)

    def values(self) -> ParameterValues:
        """Every smoothed value: what the frame uses before sound moves it."""
        return ParameterValues(**self._value)
