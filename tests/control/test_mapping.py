"""The OSC mapping file: the default one, and a mistake named with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.control import mapping, midimap
from installation.control.mapping import DEFAULT_MAP, learn_target, learned_map, load_mapping, show_map
from installation.errors import UserError


def test_default_map_covers_the_touchosc_controls() -> None:
    controls = load_mapping().controls
    faders = {address: c.parameters[0][0] for address, c in controls.items() if len(c.parameters) == 1}
    assert set(faders.values()) == {"speed", "hue", "diffusion", "size", "saturation"}
    assert {c.action for c in controls.values() if c.action} == {"pause", "blackout", "next", "prev", "tap"}
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


def big_map(path: Path, extra: str = "", size: int = 20_000) -> tuple[int, int]:
    """A map of ``size`` controls: a MIDI binding for every CC and note on every channel (4,096,
    all the controls MIDI has) and OSC addresses for the rest; its OSC and MIDI control counts."""
    midi = [
        f'[[midi.controls]]\n{kind} = {number}\nchannel = {channel}\naction = "next"\n'
        for kind in ("cc", "note")
        for channel in range(1, 17)
        for number in range(128)
    ]
    osc = [f'[controls."/c/{index}"]\nparameter = "hue"\n' for index in range(size - len(midi))]
    path.write_text("\n".join(osc + midi) + extra)
    return len(osc), len(midi)


class Counted:
    """A function wrapped to count its calls: the measure of work, where time would be noise."""

    def __init__(self, function) -> None:
        self.function = function
        self.calls = 0

    def __call__(self, *args):
        self.calls += 1
        return self.function(*args)


def test_twenty_thousand_controls_load_without_a_scan_per_control(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "big.toml"
    osc, midi = big_map(path)
    line_of = Counted(mapping.line_of)
    overlaps = Counted(midimap._overlaps)
    monkeypatch.setattr(mapping, "line_of", line_of)
    monkeypatch.setattr(midimap, "_overlaps", overlaps)
    loaded = load_mapping(path)
    assert (len(loaded.controls), len(loaded.midi), line_of.calls, overlaps.calls) == (osc, midi, 0, 0)


def test_a_mistake_or_a_duplicate_at_the_end_of_a_big_map_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    big_map(path, '\n[[midi.controls]]\ncc = 5\nparameter = "hue"\n')
    lines = path.read_text().count("\n")
    with pytest.raises(UserError) as raised:
        load_mapping(path)
    assert str(raised.value) == (
        f"The control map {path}, line {lines - 2}: the MIDI control binds cc 5 a second time; "
        "keep one binding per control."
    )
    big_map(path, '\n[controls."/last"]\nparameter = "hew"\n')
    with pytest.raises(UserError) as raised:
        load_mapping(path)
    assert str(raised.value).startswith(
        f"The OSC map {path}, line {lines - 2}: control /last names an unknown parameter"
    )


def test_the_learned_map_replaces_only_the_built_in_one(tmp_path: Path) -> None:
    learned = learned_map(tmp_path / "state.json")
    assert learned == tmp_path / "control-map.toml" and show_map(DEFAULT_MAP, learned) == DEFAULT_MAP
    learned.write_text(DEFAULT_MAP.read_text())
    own = tmp_path / "own.toml"
    assert (show_map(DEFAULT_MAP, learned), show_map(own, learned)) == (learned, own)


def test_learn_never_saves_into_the_package(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(DEFAULT_MAP.parents[2])  # where the shipped map is installation/control/touchosc.toml
    learned = tmp_path / "control-map.toml"
    own = tmp_path / "own.toml"
    shipped = Path("installation/control/touchosc.toml")
    targets = [learn_target(path, learned) for path in (DEFAULT_MAP, shipped, own)]
    assert targets == [learned, learned, own]
