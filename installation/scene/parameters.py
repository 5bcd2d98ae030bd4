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
import functools
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

    @functools.cached_property
    def address(self) -> str:
        """Its OSC address: ``audio_gain`` is ``/audio/gain``, in the container ``/audio``. Past another
        parameter's name the underscores stay (``duration_min`` is ``/duration_min``): no address is
        both a method and a container (OSC has methods only at the leaves of its tree, and OSCQuery
        clients such as Chataigne take a node with contents for a group and drop its value)."""
        parts = self.name.split("_")
        for cut in range(1, len(parts)):
            if "_".join(parts[:cut]) in SPECS:
                return "/" + "/".join(parts[:cut]) + "_" + "_".join(parts[cut:])
        return "/" + "/".join(parts)

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
    duration_min: float = _declare(
        0.2, 120.0, 2.0, 0.0, "seconds the transition between two nearly equal keyframes lasts (with --follow 1)"
    )
    diffusion: float = _declare(0.0, 2.0, 0.06, 0.3, "how far spheres wander (Brownian bridge amplitude)")
    follow: float = _declare(
        0.0, 1.0, 1.0, 0.3, "how much motion follows the model's changes (0: every sphere and transition alike)"
    )
    size: float = _declare(0.1, 2.0, 1.5, 0.2, "sphere diameter relative to its grid cell (1.42 and more tile it)")
    shading: float = _declare(0.0, 1.0, 0.35, 0.3, "how strongly spheres are lit as spheres (0: flat colour)")
    backdrop: float = _declare(
        0.0, 1.0, 1.0, 0.3, "how much of the cross-fading picture shows behind moving spheres (0: black)"
    )
    terms: float = _declare(1.0, 32.0, 12.0, 0.0, "Brownian bridge terms (detail of the paths)")
    hue: float = _declare(-180.0, 180.0, 0.0, 0.3, "hue rotation in degrees")
    saturation: float = _declare(0.0, 2.0, 1.0, 0.3, "colour saturation (1 = as made)")
    brightness: float = _declare(0.0, 2.0, 1.0, 0.3, "brightness (1 = as made)")
    blackout: float = _declare(0.0, 1.0, 0.0, 0.5, "fade to black (1 = black)")
    cover: float = _declare(0.0, 1.0, 0.0, 0.3, "0 shows the whole picture (contain), 1 fills the screen (cover)")
    glow: float = _declare(0.0, 2.0, 0.0, 0.3, "bloom around bright parts (0: off)")
    trails: float = _declare(
        0.0, 0.98, 0.0, 0.3, "share of the picture kept each 1/60 s behind moving spheres (0: off)"
    )
    defocus: float = _declare(0.0, 2.0, 0.0, 0.3, "depth of field: blur of spheres away from the picture (0: off)")
    audio_gain: float = _declare(0.0, 4.0, 1.0, 0.0, "how strongly sound steers the show (0 = not at all)")
    audio_speed: float = _declare(0.0, 2.0, 0.6, 0.0, "how much loud passages speed transitions up")
    audio_color: float = _declare(0.0, 2.0, 0.6, 0.0, "how much level and bands shift hue, saturation and brightness")
    corner_x0: float = _declare(-1.0, 2.0, 0.0, 0.0, "corner pin: where the picture's top-left corner lands, x")
    corner_y0: float = _declare(-1.0, 2.0, 0.0, 0.0, "corner pin: the top-left corner, y (shares of the output)")
    corner_x1: float = _declare(-1.0, 2.0, 1.0, 0.0, "corner pin: the top-right corner, x")
    corner_y1: float = _declare(-1.0, 2.0, 0.0, 0.0, "corner pin: the top-right corner, y")
    corner_x2: float = _declare(-1.0, 2.0, 1.0, 0.0, "corner pin: the bottom-right corner, x")
    corner_y2: float = _declare(-1.0, 2.0, 1.0, 0.0, "corner pin: the bottom-right corner, y")
    corner_x3: float = _declare(-1.0, 2.0, 0.0, 0.0, "corner pin: the bottom-left corner, x")
    corner_y3: float = _declare(-1.0, 2.0, 1.0, 0.0, "corner pin: the bottom-left corner, y")
    blend_gamma: float = _declare(
        1.0, 3.0, 2.2, 0.0, "the projectors' gamma, so a wall's blended strip is as bright as the rest"
    )

    def as_dict(self) -> dict[str, float]:
        """Every value by name (not ``dataclasses.asdict``, which deep-copies: this runs every frame)."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    def clamped(self) -> ParameterValues:
        """The same values, each kept inside its parameter's range."""
        return ParameterValues(**{spec.name: spec.clamp(getattr(self, spec.name)) for spec in PLAYER_PARAMETERS})


GLIDE_SECONDS = 1.0
"""How long a preset switch takes to move every parameter of the preset to its new value."""

CORNERS = tuple(f"corner_{axis}{corner}" for corner in range(4) for axis in "xy")
OUTPUT_PARAMETERS = (*CORNERS, "blend_gamma")
"""Parameters of this machine's output, not of the show: its projector's corner pin and gamma. A
wall's follower keeps its own, whatever its leader's are."""

PLAYER_PARAMETERS = tuple(Parameter(name=field.name, **field.metadata) for field in dataclasses.fields(ParameterValues))
SPECS = {spec.name: spec for spec in PLAYER_PARAMETERS}


class Parameters:
    """Current targets and smoothed values of every parameter."""

    def __init__(self) -> None:
        self.specs = SPECS
        self._target = {spec.name: spec.default for spec in PLAYER_PARAMETERS}
        self._value = dict(self._target)
        self._glides: dict[str, tuple[float, float, float]] = {}
        """Parameters on their way to a preset's value: (start value, seconds gone, seconds in all)."""

    def set(self, name: str, value: float, immediate: bool = False) -> bool:
        """Aim ``name`` at ``value`` (clamped). Unknown names and non-finite values return False."""
        spec = self.specs.get(name)
        if spec is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        self._target[name] = spec.clamp(float(value))
        self._glides.pop(name, None)
        if immediate or spec.smoothing == 0.0:
            self._value[name] = self._target[name]
        return True

    def glide(self, targets: dict[str, float], seconds: float = GLIDE_SECONDS) -> None:
        """Aim at every value of ``targets`` and move there in a straight line over ``seconds``.

        A preset switch moves many parameters at once; smoothing alone would move each at its own
        pace (and some not at all), so the look would jump. Names not in ``targets`` are left as
        they are; a later ``set`` of a gliding name takes it over.
        """
        for name, value in targets.items():
            start = self._value.get(name)
            if start is not None and self.set(name, value):
                self._value[name] = start
                self._glides[name] = (start, 0.0, max(seconds, 1e-6))

    def step(self, dt: float) -> None:
        """Advance glides and smoothing by ``dt`` seconds (smoothing: exponential approach to the target)."""
        for name, spec in self.specs.items():
            if name in self._glides:
                self._advance_glide(name, max(dt, 0.0))
            elif spec.smoothing > 0.0:
                share = 1.0 - math.exp(-max(dt, 0.0) / spec.smoothing)
                self._value[name] += (self._target[name] - self._value[name]) * share

    def _advance_glide(self, name: str, dt: float) -> None:
        start, elapsed, seconds = self._glides[name]
        elapsed += dt
        share = min(elapsed / seconds, 1.0)
        self._value[name] = start + (self._target[name] - start) * share
        if share >= 1.0:
            del self._glides[name]
        else:
            self._glides[name] = (start, elapsed, seconds)

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
