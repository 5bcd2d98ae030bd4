"""The OSC mapping file: the default one, and a mistake named with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.control.mapping import DEFAULT_MAP, load_mapping
from installation.errors import UserError


def test_default_map_covers_the_touchosc_controls() -> None:
    controls = load_mapping().controls
    faders = {address: c.parameters[0][0] for address, c in controls.items() if len(c.parameters) == 1}
    assert set(faders.values()) == {"speed", "hue", "diffusion", "size", "saturation"}
    assert {c.action for c in controls.values() if c.action} == {"pause", "blackout", "next", "prev"}
    assert [name for name, _, _ in controls["/1/xy1"].parameters] == ["hue", "saturation"]
    assert controls["/1/fader1"].scale((0.25,)) == [("speed", 1.0)]
    assert controls["/1/fader1"].unscale("speed", 1.0) == 0.25


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[controls."/a"]\nparameter = \n', "is not valid TOML (Invalid value (at line 2, column 13)); fix that line."),
        ('[controls."/a"]\nparameter = "sped"\n', "line 1: control /a names an unknown parameter 'sped'"),
        ('[controls."/b"]\naction = "jump"\n', "line 1: control /b has an unknown action 'jump'"),
        ('[controls."/c"]\nparameter = "hue"\nrange = [1]\n', "line 1: control /c has a range that is not two numbers"),
        ('title = "nothing"\n', 'has no [controls."/address"] tables'),
    ],
)
def test_mistakes_are_one_sentence_with_the_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "map.toml"
    path.write_text(text)
    with pytest.raises(UserError) as raised:
        load_mapping(path)
    assert expected in str(raised.value) and str(path) in str(raised.value)


def test_missing_map_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot be read"):
        load_mapping(tmp_path / "none.toml")
    assert DEFAULT_MAP.is_file()
