"""play --config: options from TOML, the command line winning, mistakes named with their line."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from installation.cli import build_parser, main
from installation.config import apply_config
from installation.control.mapping import load_mapping
from installation.errors import UserError


def play_parser() -> argparse.ArgumentParser:
    return build_parser()._subparsers._group_actions[0].choices["play"]


def test_file_values_become_defaults_and_the_command_line_wins(tmp_path: Path) -> None:
    config = tmp_path / "show.toml"
    config.write_text(
        'window = "320x180"\nfullscreen = true\nhue = 45\nosc-allow = ["10.0.0.0/8"]\nsequence = "keyframes/alps"\n'
    )
    parser = play_parser()
    apply_config(parser, config, "play")
    args = parser.parse_args(["--window", "640x360"])
    assert args.window == (640, 360) and args.fullscreen is True
    assert args.parameter_hue == 45.0 and args.osc_allow == ["10.0.0.0/8"]
    assert args.sequence == Path("keyframes/alps")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("colour = 3\n", "line 1: colour is not an option of metamorph play; see `metamorph config --example`"),
        ('hue = "red"\n', "line 1: hue has a value that does not fit"),
        ("fullscreen = 1\n", "line 1: fullscreen must be true or false."),
        ('transport = "teleport"\n', "line 1: transport must be one of grid, color."),
        ('\nosc-allow = "10.0.0.0/8"\n', "line 2: osc-allow must be a list"),
        ("hue = \n", "is not valid TOML"),
    ],
)
def test_mistakes_are_one_sentence(tmp_path: Path, capsys, text: str, expected: str) -> None:
    config = tmp_path / "show.toml"
    config.write_text(text)
    assert main(["play", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert expected in err and str(config) in err and err.count("\n") == 1


def test_the_example_lists_every_option_and_loads_when_uncommented(capsys, tmp_path: Path) -> None:
    assert main(["config", "--example"]) == 0
    example = capsys.readouterr().out
    assert "%(default" not in example and "# UDP port for OSC (default 8000; 0 turns OSC off)" in example
    settings = [line[2:] for line in example.splitlines() if re.match(r"# [a-z-]+ = ", line)]
    for flag in ("fullscreen", "osc-port", "sphere-size", "audio-device", "open", "state", "log-file", "shuffle"):
        assert any(line.startswith(f"{flag} = ") for line in settings), flag
    uncommented = tmp_path / "all.toml"
    uncommented.write_text("\n".join(line for line in settings if "..." not in line))  # options with a default
    tomllib.loads(uncommented.read_text())
    apply_config(play_parser(), uncommented, "play")


def test_a_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot be read"):
        apply_config(play_parser(), tmp_path / "none.toml", "play")


# Files that are not what they seem: one sentence each, never a traceback -------------------------

BAD_FILES = {
    "not UTF-8": (
        b"hue = 3\n# caf\xe9\n",
        "is not UTF-8 text (line 2 holds the byte 0xe9); save it as UTF-8 in a text editor.",
    ),
    "frames = 1e400": (
        b"frames = 1e400\n",
        ", line 1: frames is inf, which is not a number an option can take; write a finite number.",
    ),
    "hue = nan": (
        b"hue = nan\n",
        ", line 1: hue is nan, which is not a number an option can take; write a finite number.",
    ),
    "an integer of 5000 digits": (
        b"frames = " + b"9" * 5000 + b"\n",
        "is not valid TOML (Exceeds the limit (4300 digits)",
    ),
    "nested 100k deep": (
        b"hue = " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        "nests lists or tables too deeply; write plain values.",
    ),
    "a date in a list": (
        b"hue = [1979-05-27]\n",
        ", line 1: hue must be a single value, not [datetime.date(1979, 5, 27)].",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_config_that_cannot_be_read_is_one_sentence(tmp_path: Path, capsys, case: str) -> None:
    content, expected = BAD_FILES[case]
    config = tmp_path / "show.toml"
    config.write_bytes(content)
    assert main(["play", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"metamorph: error: The config {config}") and expected in err and err.count("\n") == 1


def test_an_osc_map_that_is_not_utf8_is_one_sentence(tmp_path: Path) -> None:
    osc_map = tmp_path / "map.toml"
    osc_map.write_bytes(b'[controls."/1/fader1"]\nparameter = "hue" # \xff\n')
    with pytest.raises(UserError) as raised:
        load_mapping(osc_map)
    assert str(raised.value) == (
        f"The OSC map {osc_map} is not UTF-8 text (line 2 holds the byte 0xff); save it as UTF-8 in a text editor."
    )


@pytest.mark.parametrize("bounds", ["[nan, 1.0]", "[0.0, inf]", "[true, 1.0]", "[0, 1" + "0" * 400 + "]"])
def test_an_osc_map_range_must_be_two_finite_numbers(tmp_path: Path, bounds: str) -> None:
    osc_map = tmp_path / "map.toml"
    osc_map.write_text(f'[controls."/1/fader1"]\nparameter = "hue"\nrange = {bounds}\n')
    with pytest.raises(UserError) as raised:
        load_mapping(osc_map)
    assert str(raised.value) == (
        f"The OSC map {osc_map}, line 1: control /1/fader1 has a range that is not two numbers, such as range = [0.0, 4.0]."
    )


# Fuzz: any value under any option name ------------------------------------------------------------


def configurable_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every command that takes --config, found the way the CLI finds it (its command_parser)."""
    commands = build_parser()._subparsers._group_actions[0].choices
    return {name: parser for name, parser in commands.items() if parser.get_default("command_parser") is not None}


OPTION_NAMES = {
    command: [action.option_strings[-1].removeprefix("--") for action in parser._actions if action.option_strings]
    for command, parser in configurable_parsers().items()
}


def toml_value(value: object) -> str:
    """``value`` written as TOML (JSON strings are TOML basic strings when ASCII-escaped)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


text = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
scalars = (
    st.booleans()
    | st.integers()
    | st.floats()
    | text
    | st.dates()
    | st.times()
    | st.sampled_from(
        ["1920x1080", "99999x99999", "0x0", "-1", "1e400", "127.0.0.1:9000", "", "auto", "none", "/dev/null"]
    )
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=2), max_leaves=6
)


@st.composite
def configs(draw: st.DrawFn) -> tuple[str, str]:
    command = draw(st.sampled_from(sorted(OPTION_NAMES)))
    keys = draw(
        st.lists(st.sampled_from(OPTION_NAMES[command]) | text.filter(bool), min_size=1, max_size=4, unique=True)
    )
    return command, "".join(f"{json.dumps(key)} = {toml_value(draw(values))}\n" for key in keys)


def loads_or_says_why(command: str, config: Path) -> None:
    parser = configurable_parsers()[command]
    try:
        apply_config(parser, config, command)
    except UserError as error:
        message = str(error)
        assert "\n" not in message and message.endswith(".") and str(config) in message, message
        return
    parser.parse_args([])  # the values the file set are the command's defaults now


@pytest.mark.slow
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=configs())
def test_any_config_values_load_or_are_one_sentence(tmp_path: Path, config: tuple[str, str]) -> None:
    command, content = config
    path = tmp_path / "fuzz.toml"
    path.write_text(content, encoding="utf-8")
    loads_or_says_why(command, path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=120))
def test_any_config_bytes_load_or_are_one_sentence(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(content)
    loads_or_says_why("play", path)
