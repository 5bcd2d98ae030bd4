"""What several commands share: the look and motion options of play and capture, and --ray."""

from __future__ import annotations

import argparse
from pathlib import Path

from installation.errors import UserError


def add_ray(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help=f"run on the Ray cluster at ADDRESS (host:port, or ray://host:10001), or on a new local Ray instance without it: {what} (needs the cluster extra; put it after the positional arguments)",
    )


def check_ray_address(address: str | None) -> None:
    """Refuse a file or folder taken for the cluster's address (``--ray`` before a positional)."""
    if address and Path(address).exists():
        raise UserError(f"--ray took {address} for the cluster's address; put --ray after it, or write --ray=ADDRESS.")


def add_show_options(command: argparse.ArgumentParser, outputs: bool = True) -> None:
    """The look and motion options of ``play`` and ``capture``, one per registry parameter; the
    output's own (corner pin, gamma) only where there is an output (not in a capture)."""
    from installation.options import Bounds, ShowOptions
    from installation.scene.conductor import Order
    from installation.scene.parameters import OUTPUT_PARAMETERS, PLAYER_PARAMETERS
    from installation.scene.transport import Transport

    look = command.add_argument_group("look and motion")
    look.add_argument(
        "--preset",
        default="gentle",
        metavar="NAME|FILE",
        help="a named look, gentle (default), drift, storm or swarm (see `metamorph presets`), or a preset "
        ".toml file; the options below win over it",
    )
    look.add_argument(
        "--fit",
        choices=["contain", "cover"],
        help="contain: the whole picture, letterboxed; cover: the screen filled, picture and spheres cropped "
        "(default: the preset's, else contain)",
    )
    look.add_argument(
        "--grid",
        type=Bounds(1, 4096, ShowOptions.columns, whole=True),
        default=ShowOptions.columns,
        metavar="COLUMNS",
        help="sphere columns (default %(default)s; rows follow the picture's aspect)",
    )
    look.add_argument(
        "--transport",
        choices=[transport.value for transport in Transport],
        default=ShowOptions.transport.value,
        help="color: spheres travel to a cell of their colour in the next keyframe; grid: back to their own cell "
        "(default %(default)s)",
    )
    look.add_argument(
        "--order",
        choices=[order.value for order in Order],
        default=ShowOptions.order.value,
        help="how the sequence is walked (default %(default)s)",
    )
    for spec in PLAYER_PARAMETERS:
        if spec.name in OUTPUT_PARAMETERS and not outputs:
            continue
        look.add_argument(
            spec.flag,
            dest=f"parameter_{spec.name}",
            type=Bounds(spec.minimum, spec.maximum, spec.default),
            metavar="X",
            help=f"{spec.help} ({spec.minimum:g}..{spec.maximum:g}, default {spec.default:g})",
        )


def show_options(args: argparse.Namespace):
    from installation.options import ShowOptions
    from installation.scene.parameters import CORNERS
    from installation.scene.presets import FITS, load_preset

    parameters = {
        name.removeprefix("parameter_"): value
        for name, value in vars(args).items()
        if name.startswith("parameter_") and value is not None
    }
    if args.fit is not None:
        parameters["cover"] = FITS[args.fit]
    if getattr(args, "corners", None) is not None:
        parameters |= dict(zip(CORNERS, args.corners, strict=True))
    return ShowOptions(args.sequence, args.grid, args.transport, args.order, parameters, load_preset(args.preset))
