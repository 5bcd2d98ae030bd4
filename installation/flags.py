"""Command-line options declared where their value lives: on the fields of the options dataclasses.

A field declared with ``flag`` carries its option's name, help and argparse settings in its
metadata; ``add_options`` adds a command's options to its parser from that declaration, and
``options_from`` builds the dataclass back from the parsed arguments (through the field's
``convert`` where the command line says it otherwise: 0 for off, a file for a path). So an option
is written once, and the command line, the config file (which converts through the same argparse
type) and the drivers cannot disagree. A number option's floor and ceiling are a ``Bounds`` (or
a ``Size``) declared as its argparse type: the command line and the config file refuse the same
values in the same words.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from installation.errors import UserError

COMMANDS = ("play", "capture")


def flag(
    name: str,
    help: str,
    default: Any = None,
    *,
    group: str | None = None,
    commands: tuple[str, ...] = COMMANDS,
    convert: Callable[[Any], Any] | None = None,
    given: Any = dataclasses.MISSING,
    per_command: dict[str, dict[str, Any]] | None = None,
    exclusive: str | None = None,
    **argparse_settings: Any,
) -> Any:
    """A dataclass field whose value comes from the option ``name`` of ``commands``: ``default``
    is the field's; ``given`` the option's own default when it differs (a value ``convert`` turns
    into the field's: 0 for off); the rest goes to ``add_argument`` (type, choices, action...),
    with ``per_command`` settings (its help, its choices) where one command's option differs. Options
    of one group with the same ``exclusive`` name cannot be given together."""
    metadata = {
        "flag": name,
        "help": help,
        "group": group,
        "commands": commands,
        "convert": convert,
        "given": default if given is dataclasses.MISSING else given,
        "argparse": argparse_settings,
        "per_command": per_command or {},
        "exclusive": exclusive,
    }
    return dataclasses.field(default=default, metadata=metadata)


def zero_is_off(value: float) -> float | None:
    """The conversion of an option whose 0 turns it off (a port, a watchdog): None for off."""
    return value or None


def add_options(parser: argparse.ArgumentParser, options: type, command: str) -> None:
    """Add to ``parser`` the options of ``command`` declared on the dataclass ``options``, in the
    order of its fields, each in its group."""
    groups: dict[str | None, Any] = {None: parser}
    for field in dataclasses.fields(options):
        declared = field.metadata
        if "flag" not in declared or command not in declared["commands"]:
            continue
        group = declared["group"]
        if group not in groups:
            groups[group] = next((g for g in parser._action_groups if g.title == group), None) or (
                parser.add_argument_group(group)
            )
        settings = {"help": declared["help"], **declared["argparse"], **declared["per_command"].get(command, {})}
        if settings.get("action") not in ("store_true", "store_false"):
            settings.setdefault("default", declared["given"])
        target = groups[group]
        if declared["exclusive"] is not None:
            key = f"{group}/{declared['exclusive']}"
            if key not in groups:
                groups[key] = target.add_mutually_exclusive_group()
            target = groups[key]
        settings.setdefault("dest", field.name)
        target.add_argument(declared["flag"], **settings)


def check_declared(options: Any) -> None:
    """Refuse, in the command line's words, a value of ``options`` outside its declared floor and
    ceiling (options made in code, not parsed: a Ray task's, a test's)."""
    for field in dataclasses.fields(options):
        kind = field.metadata.get("argparse", {}).get("type")
        value = getattr(options, field.name)
        if isinstance(kind, Bounds | Size) and value is not None:
            text = "x".join(map(str, value)) if isinstance(kind, Size) else _plain(value)
            try:
                kind(text)
            except argparse.ArgumentTypeError as error:
                raise UserError(f"{field.metadata['flag']} {error}.") from None


def options_from(options: type, args: argparse.Namespace, **values: Any) -> Any:
    """The dataclass ``options`` from the parsed ``args`` (its declared fields that the command
    has), with ``values`` given for the rest."""
    for field in dataclasses.fields(options):
        declared = field.metadata
        dest = declared.get("argparse", {}).get("dest", field.name)
        if "flag" not in declared or field.name in values or not hasattr(args, dest):
            continue
        value = getattr(args, dest)
        values[field.name] = declared["convert"](value) if declared["convert"] else value
    return options(**values)


@dataclass(frozen=True)
class Bounds:
    """A number option's floor, ceiling and a sane value to suggest; an argparse type.

    Every number option has one: an unchecked value only fails later, in the show (a watchdog of
    a millisecond ends it before its first frame, over and over under a service manager).
    """

    low: float
    high: float
    sane: float
    whole: bool = False
    off: float | None = None
    """A value outside the range that turns the option off (0 for ``--watchdog``)."""

    def __call__(self, text: str) -> float:
        value = self._number(text)
        if value is not None and (value == self.off or self.low <= value <= self.high):
            return value
        kind = "a whole number" if self.whole else "a finite number"
        off = "" if self.off is None else f" (or {_plain(self.off)}: off)"
        raise argparse.ArgumentTypeError(
            f"{text!r} is not {kind} from {_plain(self.low)} to {_plain(self.high)}{off}; give e.g. {_plain(self.sane)}"
        )

    def _number(self, text: str) -> float | None:
        try:
            value = int(text) if self.whole else float(text)
        except (ValueError, OverflowError):
            return None
        return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Size:
    """A WIDTHxHEIGHT option whose sides lie in ``low..high``; an argparse type."""

    low: int
    high: int
    sane: tuple[int, int]

    def __call__(self, text: str) -> tuple[int, int]:
        match = re.fullmatch(r"\s*(\d{1,9})\s*[xX]\s*(\d{1,9})\s*", text)
        if match and all(self.low <= int(side) <= self.high for side in match.groups()):
            return int(match[1]), int(match[2])
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size with sides from {self.low} to {self.high}; write it as WIDTHxHEIGHT, e.g. "
            f"{self.sane[0]}x{self.sane[1]}"
        )


@dataclass(frozen=True)
class Address:
    """A HOST:PORT option (HOST alone when ``default_port`` is given); an argparse type."""

    default_port: int | None = None
    example: str = "192.168.1.20:9000"

    def __call__(self, text: str) -> tuple[str, int]:
        host, colon, port = text.rpartition(":")
        if not colon and self.default_port is not None:
            host, port = text, str(self.default_port)
        if host and len(host) <= 253 and host.isprintable() and port.isdigit() and 0 < int(port) < 65536:
            return host, int(port)
        form = (
            "HOST:PORT" if self.default_port is None else f"HOST or HOST:PORT (port {self.default_port} when left out)"
        )
        raise argparse.ArgumentTypeError(f"{text!r} is not {form}; write it as e.g. {self.example}")


def _plain(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
