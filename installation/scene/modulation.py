"""How sound steers the show: features of the music turned into offsets of the parameters.

The registry keeps what the operator set (faders, keys, config); modulation is applied on top,
frame by frame, and never written back, so a fader stays where it was put when the music stops.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from installation.scene.parameters import ParameterValues


@dataclass(frozen=True)
class SoundFeatures:
    """One frame of sound analysis, each in [0, 1]: level, bands, and the decaying onset kick."""

    level: float = 0.0
    bass: float = 0.0
    mid: float = 0.0
    treble: float = 0.0
    kick: float = 0.0
    onset: bool = False


SILENCE = SoundFeatures()


def modulate(values: ParameterValues, sound: SoundFeatures) -> ParameterValues:
    """The parameter values a frame uses: ``values`` moved by ``sound``, kept in range.

    Loud makes transitions faster; treble against bass turns the hue; mid lifts saturation;
    level lifts brightness; an onset kicks the diffusion.
    """
    gain = values.audio_gain
    if gain == 0.0 or sound == SILENCE:
        return values
    colour = values.audio_color * gain
    moved = dataclasses.replace(
        values,
        speed=values.speed * (1.0 + 2.0 * values.audio_speed * gain * sound.level),
        hue=values.hue + 60.0 * colour * (sound.treble - sound.bass),
        saturation=values.saturation * (1.0 + 0.5 * colour * sound.mid),
        brightness=values.brightness * (1.0 + 0.4 * colour * sound.level),
        diffusion=values.diffusion + 0.6 * gain * sound.kick,
    )
    return moved.clamped()
