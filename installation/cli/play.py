"""``metamorph play`` and ``metamorph wall-test``: the options declared on ``PlayOptions`` and the
option dataclasses it holds (``flags.add_options``), read back with ``flags.options_from``."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

from installation import signals
from installation.cli.common import add_show_options, show_options
from installation.flags import add_options, options_from

_PLAY_KEYS = """\
keys:
  space pause   left/right previous/next   f full screen   h on-screen display
  r reload shaders   s screenshot   q or Esc quit
  (shaders/ also reload by themselves when a file changes)
"""


def add(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``play`` and ``wall-test``."""
    _add_play(commands, common)
    _add_wall_test(commands, common)


def play_parser() -> argparse.ArgumentParser:
    """The parser of ``play`` alone (``metamorph config --example`` lists its options)."""
    from installation.cli import Parser

    return _add_play(Parser(prog="metamorph").add_subparsers(parser_class=Parser), Parser(add_help=False))


def _add_play(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    from installation.gallery import GalleryOptions
    from installation.options import PlayOptions, TempoOptions
    from installation.visitors.options import VisitorOptions

    command = commands.add_parser(
        "play",
        parents=[common],
        help="show a keyframe sequence live as diffusing spheres (the demo by default)",
        description=textwrap.fill(
            "Play a keyframe sequence as thousands of shaded spheres: each keyframe rests on screen, "
            "then dissolves into spheres that travel along Brownian bridges, recolour on the way and "
            "regroup into the next keyframe. Without SEQUENCE the built-in demo plays (built on first "
            "use, no download)."
        ),
        epilog=_PLAY_KEYS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument(
        "sequence",
        nargs="?",
        type=Path,
        help="a keyframe sequence folder, or a folder of them (a playlist); default: the demo",
    )
    gallery = command.add_argument_group("gallery")
    gallery.add_argument(
        "--config",
        type=Path,
        help="read options from a TOML file (the command line wins); see `metamorph config --example`",
    )
    gallery.add_argument("--log-file", type=Path, help="also log to this file, rotated at 5 MB")
    add_options(command, PlayOptions, "play")
    add_options(command, GalleryOptions, "play")
    control = next(group for group in command._action_groups if group.title == "control")
    control.add_argument(
        "--control-key-file",
        type=Path,
        metavar="FILE",
        help="the control key, on the first line of FILE (kept out of ps)",
    )
    add_show_options(command)
    add_options(command, TempoOptions, "play")
    _add_wall(command, "play")
    add_options(command, VisitorOptions, "play")
    command.set_defaults(run=_run_play, command_parser=command, command_name="play")
    return command


def _add_wall(command: argparse.ArgumentParser, name: str) -> None:
    """The video wall's options (declared on ``WallOptions``) and the output's corner pin."""
    from installation.options import WallOptions
    from installation.render.wall import corners_type

    add_options(command, WallOptions, name)
    wall = next(group for group in command._action_groups if group.title == "video wall")
    wall.description = textwrap.fill(
        "Each machine shows one tile of one canvas (its --window is a tile). One machine leads (--lead), the "
        "others follow it (--leader HOST) and draw the leader's frames; a tile with neither plays alone, as the "
        "leader would. `metamorph wall-test` shows a card for lining the tiles up."
    )
    wall.add_argument(
        "--corners",
        type=corners_type,
        metavar="x0,y0,x1,y1,x2,y2,x3,y3",
        help="corner pin (keystone): where the top-left, top-right, bottom-right, bottom-left corners land, "
        "as shares of the output (default 0,0,1,0,1,1,0,1); each is also a parameter (--corner-x0 ..., "
        "/corner/x0 ..., the control page), set live and saved with the state",
    )


def _run_play(args: argparse.Namespace) -> None:
    from installation.config import TOML_LIMIT
    from installation.control.websupervisor import control_key
    from installation.files import check_input
    from installation.render.platform import choose

    if args.osc_map is not None:  # read once the window is open: refused before it opens
        check_input(args.osc_map, "OSC map", "--osc-map", TOML_LIMIT)
    if args.visitor_blocklist is not None:
        check_input(args.visitor_blocklist, "visitor block list", "--visitor-blocklist", TOML_LIMIT)
    signals.install()
    choose(offscreen=False)
    from installation.app import play
    from installation.control.osc import networks
    from installation.gallery import GalleryOptions
    from installation.options import PlayOptions, TempoOptions, WallOptions
    from installation.visitors.options import VisitorOptions

    networks(args.osc_allow)
    options = options_from(
        PlayOptions,
        args,
        show=show_options(args),
        gallery=options_from(GalleryOptions, args),
        control_key=control_key(args.control_key, args.control_key_file),
        tempo=options_from(TempoOptions, args),
        wall=options_from(WallOptions, args),
        visitors=options_from(VisitorOptions, args),
    )
    options.wall.layout(options.window)  # a tile off the wall is said before anything opens
    play(options)


def _add_wall_test(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from installation.options import PlayOptions

    command = commands.add_parser(
        "wall-test",
        parents=[common],
        help="show a test card on this machine's tile of a video wall, for lining the wall up",
        description=textwrap.fill(
            "Show a test card across the wall: a grid, circles and diagonals that run on from tile to tile, "
            "each tile's number and outline, the projectors' shared strips with their soft edges, and this "
            "output's corner pin. Give each machine the options it will play with; the card is the same on "
            "every machine of one wall, so --leader works too."
        ),
        epilog="example:\n  metamorph wall-test --wall 3x1 --tile 1,0 --overlap 240 --fullscreen",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_options(command, PlayOptions, "wall-test")
    _add_wall(command, "wall-test")
    command.set_defaults(run=_run_wall_test, command_parser=command, command_name="wall-test")


def _run_wall_test(args: argparse.Namespace) -> None:
    from installation.render.platform import choose

    signals.install()
    choose(offscreen=False)
    from installation.app import play
    from installation.gallery import GalleryOptions
    from installation.options import PlayOptions, ShowOptions, WallOptions
    from installation.scene.parameters import CORNERS
    from installation.scene.presets import Preset
    from installation.wall.card import card_sequence

    wall = options_from(WallOptions, args)
    card = Preset("test card", "the card as it is: no look, no motion", {"speed": 0.0})
    corners = dict(zip(CORNERS, args.corners, strict=True)) if args.corners else {}
    show = ShowOptions(card_sequence(wall.layout(args.window)), parameters=corners, preset=card)
    quiet = GalleryOptions(state_file=None, watchdog=None)
    play(
        options_from(
            PlayOptions, args, show=show, gallery=quiet, osc_port=None, http_port=None, audio="none", wall=wall
        )
    )
