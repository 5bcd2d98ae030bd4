"""play --config: options from TOML, the command line winning, mistakes named with their line."""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

import pytest

from installation.cli import build_parser, main
from installation.config import apply_config
from installation.errors import UserError


def play_parser() -> argparse.ArgumentParser:
    return build_parser()._subparsers._group_actions[0].choices["play"]


def test_file_values_become_defaults_and_the_command_line_wins(tmp_path: Path) -> None:
    config = tmp_path / "show.toml"
    config.write_text('window = "320x180"\nfullscreen = true\nhue = 45\nosc-allow = ["10.0.0.0/8"]\nsequence = "keyframes/alps"\n')
    parser = play_parser()
    apply_config(parser, config, "play")
    args = parser.parse_args(["--window", "640x360"])
    assert args.window == (640, 360) and args.fullscreen is True
    assert args.parameter_hue == 45.0 and args.osc_allow == ["10.0.0.0/8"]
    assert args.sequence == Path("keyframes/alps")


@pytest.mark.parametrize("text, expected", [
    ("colour = 3\n", "line 1: colour is not an option of metamorph play; see `metamorph config --example`"),
    ('hue = "red"\n', "line 1: hue has a value that does not fit"),
    ("fullscreen = 1\n", "line 1: fullscreen must be true or false."),
    ('transport = "teleport"\n', "line 1: transport must be one of grid, color."),
    ('\nosc-allow = "10.0.0.0/8"\n', "line 2: osc-allow must be a list"),
    ("hue = \n", "is not valid TOML"),
])
def test_mistakes_are_one_sentence(tmp_path: Path, capsys, text: str, expected: str) -> None:
    config = tmp_path / "show.toml"
    config.write_text(text)
    assert main(["play", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert expected in err and str(config) in err and err.count("\n") == 1


def test_the_example_lists_every_option_and_loads_when_uncommented(capsys, tmp_path: Path) -> None:
    assert main(["config", "--example"]) == 0
    example = capsys.readouterr().out
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
