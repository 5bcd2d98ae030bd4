"""The ``metamorph`` command: argument parsing only; each subcommand calls one function.

Each command's parser is in the module of its name (``keyframes``, ``play``, ``capture``, the
smaller ``tools``); the options of play and capture are declared once, on the fields of their
options dataclasses (``installation/options.py``, ``installation/flags.py``). A ``UserError`` ends
as one line on stderr and exit code 2; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from installation import __version__, signals
from installation.errors import UserError
from installation.logs import LogFile, RateLimit

log = logging.getLogger(__name__)

RATE_LIMIT = RateLimit()
"""One limiter for both log handlers: a warning that repeats is written a few times a minute."""
STDERR = logging.StreamHandler()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, --version, or a refused argument, already said in one line
        return exit.code if isinstance(exit.code, int) else 2
    debug = getattr(args, "debug", False)
    _log_to_stderr(debug)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        if getattr(args, "config", None) is not None:
            from installation.config import apply_config

            apply_config(args.command_parser, args.config, args.command_name)
            args = parser.parse_args(argv)
        if getattr(args, "log_file", None) is not None:
            _log_to_file(args.log_file)
        args.run(args)
    except UserError as error:
        if debug:
            traceback.print_exc()
        print(f"metamorph: error: {error}", file=sys.stderr)
        return error.exit_code
    except signals.Stopped as stopped:
        print(f"metamorph: {stopped}; what was written is kept.", file=sys.stderr)
        return 0 if getattr(args, "command_name", None) == "play" else stopped.exit_code  # a show's normal end
    except KeyboardInterrupt:
        print("metamorph: interrupted.", file=sys.stderr)
        return 130
    return 0


def _log_to_stderr(debug: bool) -> None:
    """One line per message on stderr, repeating warnings limited; added once per process."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    logging.getLogger("OpenGL").setLevel(logging.DEBUG if debug else logging.WARNING)
    if STDERR not in root.handlers:
        STDERR.setFormatter(logging.Formatter("metamorph: %(message)s"))
        STDERR.addFilter(RATE_LIMIT)
        root.addHandler(STDERR)


def _log_to_file(path: Path) -> LogFile:
    """Also log to ``path`` (its folder made if missing); a path that cannot be written is refused."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"The log file {path} cannot be written ({error.strerror}); choose another --log-file."
        ) from error
    handler = LogFile(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RATE_LIMIT)
    logging.getLogger().addHandler(handler)
    return handler


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line that names the fix, as every other error is."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"metamorph: error: {message} (see `{self.prog} --help`).\n")


def build_parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors")
    parser = Parser(
        prog="metamorph",
        description="Diffusive Metamorphosis: a photograph becomes a live installation of diffusing spheres.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"metamorph {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)
    from installation.cli import capture, keyframes, play, tools

    for command in (keyframes, play, capture, tools):
        command.add(commands, common)
    return parser
