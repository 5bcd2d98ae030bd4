"""Options from a TOML file: every option of a command, by its long name, the command line winning.

The file's keys are the options' names without the dashes (``osc-port = 8000``,
``fullscreen = true``, ``sequence = "keyframes/alps"``); the parser itself is the schema, so a
new option is configurable the moment it exists, and the example is generated from it.
"""

from __future__ import annotations

import argparse
import json
import math
import reprlib
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from installation.errors import UserError
from installation.files import MIB, read_input

TOML_LIMIT = 16 * MIB
"""The most a TOML input may hold: a controller map of 20,000 controls is about 1 MB."""
CONFIG_LIMIT = MIB
"""The most a config may hold: every option of ``play`` with its comments is about 10 KB."""
_SKIP = {"help", "config", "debug"}


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    options = {}
    for action in parser._actions:
        if action.dest in _SKIP or action.dest == argparse.SUPPRESS:
            continue
        name = action.option_strings[-1].removeprefix("--") if action.option_strings else action.dest
        options[name] = action
    return options


def read_toml(path: Path, what: str, flag: str, limit: int = TOML_LIMIT) -> tuple[str, dict[str, Any]]:
    """A TOML file's text and data, or one sentence naming the file (``what``) and the fix."""
    data = read_input(path, what, flag, limit)
    try:
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text() reads it
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        raise UserError(
            f"The {what} {path} is not UTF-8 text (line {line} holds the byte 0x{error.object[error.start]:02x}); "
            "save it as UTF-8 in a text editor."
        ) from error
    try:
        return text, tomllib.loads(text)
    except ValueError as error:  # TOMLDecodeError, or an integer of thousands of digits
        raise UserError(f"The {what} {path} is not valid TOML ({error}); fix that line.") from error
    except RecursionError as error:
        raise UserError(f"The {what} {path} nests lists or tables too deeply; write plain values.") from error


def is_finite_number(value: Any) -> bool:
    """Whether a value read from a file is a number a setting can take: not a boolean (TOML and
    JSON booleans are ints to Python), NaN, infinite, or an integer beyond any float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def line_of(text: str, key: str) -> int:
    """The number of the first line that mentions ``key`` (0 when none does), for messages."""
    return next((number for number, row in enumerate(text.splitlines(), 1) if key in row), 0)


def apply_config(parser: argparse.ArgumentParser, path: Path, command: str) -> None:
    """Make the file's values the parser's defaults, so that options given on the command line win."""
    text, data = read_toml(path, "config", "--config", CONFIG_LIMIT)
    options = _options(parser)
    defaults = {}
    for key, value in data.items():
        line = line_of(text, key)
        action = options.get(key)
        if action is None:
            name = key if key.isprintable() and len(key) <= 40 else reprlib.repr(key)
            raise UserError(
                f"The config {path}, line {line}: {name} is not an option of metamorph {command}; "
                f"see `metamorph config --example` for the names."
            )
        defaults[action.dest] = _convert(action, value, f"The config {path}, line {line}: {key}")
    parser.set_defaults(**defaults)


def _convert(action: argparse.Action, value: Any, where: str) -> Any:
    if action.nargs == 0:  # a switch such as --fullscreen
        if not isinstance(value, bool):
            raise UserError(f"{where} must be true or false.")
        return value if action.const is True else not value
    if action.nargs in ("+", "*"):
        if not isinstance(value, list):
            raise UserError(f'{where} must be a list, e.g. ["192.168.1.0/24"].')
        return [_convert_one(action, item, where) for item in value]
    return _convert_one(action, value, where)


def _convert_one(action: argparse.Action, value: Any, where: str) -> Any:
    if isinstance(value, (dict, list)) or isinstance(value, bool):
        raise UserError(f"{where} must be a single value, not {reprlib.repr(value)}.")
    if isinstance(value, float) and not is_finite_number(value):
        raise UserError(f"{where} is {value}, which is not a number an option can take; write a finite number.")
    converter: Callable[[str], Any] = action.type if callable(action.type) else str
    try:
        converted = converter(value) if converter in (int, float) else converter(str(value))
    except (argparse.ArgumentTypeError, ValueError, TypeError, OverflowError) as error:
        raise UserError(f"{where} has a value that does not fit ({error}).") from error
    if action.choices is not None and converted not in action.choices:
        raise UserError(f"{where} must be one of {', '.join(map(str, action.choices))}.")
    return converted


def example_config(parser: argparse.ArgumentParser, command: str) -> str:
    """A commented TOML file listing every option of ``command`` with its help and default."""
    lines = [
        f"# metamorph {command} --config this.toml",
        "# Every option of the command line, by its long name; the command line wins over this file.",
        "# Remove the # in front of a line to set it.",
        "",
    ]
    for name, action in _options(parser).items():
        lines.append(f"# {action.help % vars(action)}" if action.help else f"# {name}")  # as --help fills it in
        lines.append(f"# {name} = {_example_value(action)}")
        lines.append("")
    return "\n".join(lines)


def _as_text(action: argparse.Action, default: tuple) -> str:
    """A tuple default as the option writes it: WIDTHxHEIGHT (a size, a wall) or comma-separated
    (a tile, corner pins), whichever the option's own type takes."""
    numbers = [f"{value:g}" if isinstance(value, float) else str(value) for value in default]
    convert = action.type if callable(action.type) else str
    for text in ("x".join(numbers), ",".join(numbers)):
        try:
            convert(text)
        except (argparse.ArgumentTypeError, TypeError, ValueError):
            continue
        return text
    return ",".join(numbers)


def _example_value(action: argparse.Action) -> str:
    if action.nargs == 0:
        return "true" if action.const is True else "false"
    default = action.default
    if isinstance(default, tuple):
        default = _as_text(action, default)
    if default is None or default == []:
        return '"..."' if action.nargs not in ("+", "*") else '["..."]'
    return json.dumps(str(default) if isinstance(default, Path) else default)
