"""Presets: the shipped looks, files, the ``preset`` command, and the glide of a switch."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.errors import UserError
from installation.scene.commands import parse, run
from installation.scene.parameters import SPECS, ParameterValues
from installation.scene.presets import load_preset, shipped_presets
from installation.scene.show import Show
from tests.helpers import flat_stage


def test_gentle_is_the_default_and_the_others_differ_clearly() -> None:
    presets = shipped_presets()
    assert {"gentle", "drift", "storm", "swarm"} <= set(presets)
    defaults = ParameterValues().as_dict()
    assert all(defaults[name] == value for name, value in presets["gentle"].values.items())
    names = sorted(presets)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            a, b = presets[first].values, presets[second].values
            spans = [abs(a[k] - b[k]) / (SPECS[k].maximum - SPECS[k].minimum) for k in a.keys() & b.keys()]
            assert sum(span > 0.1 for span in spans) >= 3, (first, second)


def test_a_switch_glides_over_a_second_and_leaves_other_parameters_alone() -> None:
    show = Show(flat_stage())
    show.parameters.set("hue", 40.0, immediate=True)
    show.parameters.set("hold", 7.0)
    before = show.parameters.values().as_dict()
    storm = shipped_presets()["storm"].values
    run(show, parse("preset", ("storm",)))
    dt, previous = 1 / 60, before
    for _ in range(70):
        show.parameters.step(dt)
        now = show.parameters.values().as_dict()
        for name, value in now.items():
            if name in storm:
                allowed = abs(storm[name] - before[name]) * dt / 1.0 + 1e-9
                assert abs(value - previous[name]) <= allowed, name
            else:
                assert value == before[name], name
        previous = now
    assert all(previous[name] == pytest.approx(value) for name, value in storm.items())


def test_a_set_during_a_glide_takes_the_parameter_over() -> None:
    show = Show(flat_stage())
    run(show, parse("preset", ("storm",)))
    show.parameters.step(0.5)
    show.parameters.set("terms", 5.0)
    show.parameters.step(0.1)
    assert show.parameters["terms"] == 5.0


@pytest.mark.parametrize("args", [(), ("hurricane",), ("../etc/passwd.toml",), (3,), ("storm", "gentle")])
def test_surfaces_can_only_name_shipped_presets(args) -> None:
    assert parse("preset", args) is None


def test_a_preset_file_sets_its_values_and_fit(tmp_path: Path) -> None:
    path = tmp_path / "wall.toml"
    path.write_text('description = "for the wall"\nfit = "cover"\nglow = 0.5\nsize = 9\n')
    preset = load_preset(path)
    assert preset.values == {"cover": 1.0, "glow": 0.5, "size": 2.0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("warp = 1\n", "line 1: warp is not a parameter"),
        ('glow = "lots"\n', "line 1: glow must be a number"),
        ('fit = "stretch"\n', "line 1: fit must be one of contain, cover."),
    ],
)
def test_a_bad_preset_file_is_one_sentence(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        load_preset(path)


def test_an_unknown_name_points_at_the_list_and_the_encoder_option() -> None:
    with pytest.raises(UserError, match="neither a preset .* nor a .toml file.*--encoder-preset"):
        load_preset("ultrafast")


def test_transition_length_follows_the_change_within_the_set_range() -> None:
    from installation.scene.stage import transition_seconds

    assert transition_seconds(6.0, 2.0, 0.0, 1.0) == 2.0
    assert transition_seconds(6.0, 2.0, 1.0, 1.0) == 6.0
    assert transition_seconds(6.0, 2.0, 0.0, 0.0) == 6.0
    assert transition_seconds(6.0, 2.0, 0.5, 0.5) == pytest.approx(5.0)


def test_the_presets_command_lists_every_shipped_preset(capsys: pytest.CaptureFixture[str]) -> None:
    from installation.cli import main

    assert main(["presets", "--no-sheet"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == sorted(shipped_presets())
