"""Sound features moving parameters, on top of what the operator set."""

import pytest

from installation.scene.modulation import SILENCE, SoundFeatures, modulate
from installation.scene.parameters import Parameters


def test_silence_changes_nothing() -> None:
    values = Parameters().values()
    assert modulate(values, SILENCE) == values


def test_loud_is_faster_and_brighter_and_onsets_kick_diffusion() -> None:
    params = Parameters()
    loud = modulate(params.values(), SoundFeatures(level=1.0, kick=1.0))
    assert loud.speed > 1.5 * params["speed"]
    assert loud.brightness > params["brightness"]
    assert loud.diffusion > params["diffusion"] + 0.3
    assert params.values().speed == 1.0  # the registry is not written


def test_treble_turns_hue_one_way_and_bass_the_other() -> None:
    values = Parameters().values()
    assert modulate(values, SoundFeatures(treble=1.0)).hue > 0 > modulate(values, SoundFeatures(bass=1.0)).hue


def test_gain_zero_silences_and_results_stay_in_range() -> None:
    params = Parameters()
    params.set("audio_gain", 0.0)
    assert modulate(params.values(), SoundFeatures(level=1.0, kick=1.0)) == params.values()
    params.set("audio_gain", 4.0)
    params.set("brightness", 2.0, immediate=True)
    values = modulate(params.values(), SoundFeatures(level=1.0, mid=1.0, kick=1.0))
    assert values.brightness == 2.0 and values.speed == pytest.approx(min(8.0, 1.0 * (1 + 2 * 0.6 * 4)))
