"""The parameter registry: clamping, refusing non-finite values, smoothing, OSC addresses."""

import math

import pytest

from installation.scene.parameters import PLAYER_PARAMETERS, Parameter, Parameters


def test_defaults_and_clamping() -> None:
    params = Parameters()
    assert params["speed"] == 1.0
    assert params.set("hue", 500)
    assert params.target("hue") == 180.0
    assert params.set("speed", -3)
    assert params.target("speed") == 0.0


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "3", None])
def test_non_finite_and_non_numbers_are_refused(value) -> None:
    params = Parameters()
    assert not params.set("speed", value)
    assert params.target("speed") == 1.0


def test_unknown_names_are_refused() -> None:
    assert not Parameters().set("warp", 1.0)


def test_smoothing_approaches_the_target() -> None:
    params = Parameters()
    params.set("diffusion", 1.06)
    assert params["diffusion"] == 0.06
    params.step(0.3)  # one time constant
    assert params["diffusion"] == pytest.approx(0.06 + (1.0 - math.exp(-1)), rel=1e-6)
    for _ in range(100):
        params.step(0.1)
    assert params["diffusion"] == pytest.approx(1.06)


def test_unsmoothed_and_immediate_values_apply_at_once() -> None:
    params = Parameters()
    params.set("hold", 9.0)
    assert params["hold"] == 9.0
    params.set("hue", 90.0, immediate=True)
    assert params["hue"] == 90.0


def test_values_are_a_frozen_dataclass_with_the_registry_defaults() -> None:
    from dataclasses import FrozenInstanceError

    from installation.scene.parameters import PLAYER_PARAMETERS, ParameterValues

    values = Parameters().values()
    assert values == ParameterValues()
    assert [spec.name for spec in PLAYER_PARAMETERS] == list(values.as_dict())
    assert all(getattr(values, spec.name) == spec.default for spec in PLAYER_PARAMETERS)
    with pytest.raises(FrozenInstanceError):
        values.hue = 3.0  # type: ignore[misc]


def test_no_osc_address_is_both_a_parameter_and_a_container_of_others() -> None:
    addresses = [spec.address for spec in PLAYER_PARAMETERS]
    assert "/audio/gain" in addresses and "/duration_min" in addresses
    assert not [(a, b) for a in addresses for b in addresses if b.startswith(a + "/")]
    assert Parameter("audio_gain_min", 0.0, 1.0, 0.5).address == "/audio/gain_min"  # past /audio/gain: underscores
