"""The smaller commands: bench, presets, config, devices, ndi, touchosc and visitors."""

from __future__ import annotations

import argparse
import logging
import textwrap
from pathlib import Path

from installation.errors import UserError

log = logging.getLogger(__name__)


def add(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Every command of this module, in the order ``metamorph --help`` lists them."""
    for adder in (_add_bench, _add_presets, _add_devices, _add_ndi, _add_touchosc, _add_visitors, _add_config):
        adder(commands, common)


def _add_bench(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "bench",
        parents=[common],
        help="measure the sphere renderer on this machine (frame times, Python cost, the common way)",
        description=textwrap.fill(
            "Render the demo mid-transition offscreen at 1920x1080 and 3840x2160 with 10k, 100k and 1M "
            "spheres, and the same spheres drawn the common way (positions computed in numpy and "
            "uploaded every frame); print frame times, the Python time of a frame, and the ratios."
        ),
    )
    from installation.options import Bounds, Size

    command.add_argument(
        "--seconds", type=Bounds(0.1, 600.0, 1.0), default=1.0, help="time spent on each measurement (default 1)"
    )
    command.add_argument(
        "--counts",
        type=Bounds(1, 10_000_000, 10_000, whole=True),
        nargs="+",
        default=[10_000, 100_000, 1_000_000],
        help="sphere counts",
    )
    command.add_argument(
        "--sizes",
        type=Size(16, 16_384, (1920, 1080)),
        nargs="+",
        default=[(1920, 1080), (3840, 2160)],
        help="resolutions WxH",
    )
    command.add_argument(
        "--markdown",
        action="store_true",
        help="print the README's speed table (with the machine, GL renderer and date in its caption)",
    )
    command.add_argument(
        "--passes",
        action="store_true",
        help="time each pass of a 1080p frame of 10k spheres (backdrop, spheres, keyframes, post) for each look",
    )
    command.set_defaults(run=_run_bench)


def _run_bench(args: argparse.Namespace) -> None:
    from installation.render.platform import choose

    choose(offscreen=True)
    from installation.keyframes.demo import demo_sequence
    from installation.render import bench

    if args.passes:
        print(bench.passes_table(bench.passes(demo_sequence())))
        return
    results, caption = bench.measure(demo_sequence(), args.sizes, args.counts, args.seconds)
    print(bench.markdown(results, caption) if args.markdown else bench.table(results))


def _add_presets(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "presets",
        parents=[common],
        help="list the named looks for --preset and OSC /preset, with a sheet of one transition in each",
        description=textwrap.fill(
            "List the presets shipped with metamorph and write a sheet: one row per preset, frames of one "
            "transition of the sequence (the demo by default) rendered by the capture pipeline."
        ),
    )
    from installation.options import Bounds

    command.add_argument("sequence", nargs="?", type=Path, help="a keyframe sequence folder (default: the demo)")
    command.add_argument(
        "--sheet", type=Path, default=Path("docs/presets.jpg"), help="where the sheet goes (default %(default)s)"
    )
    command.add_argument(
        "--grid",
        type=Bounds(1, 4096, 48, whole=True),
        default=48,
        metavar="COLUMNS",
        help="sphere columns (default %(default)s)",
    )
    command.add_argument("--no-sheet", action="store_true", help="only list them")
    command.add_argument("--force", action="store_true", help="replace an existing sheet")
    command.set_defaults(run=_run_presets)


def _run_presets(args: argparse.Namespace) -> None:
    from installation.scene.presets import shipped_presets

    presets = shipped_presets()
    for preset in presets.values():
        print(f"{preset.name:<8} {preset.description}")
    if args.no_sheet:
        return
    from installation.files import check_new_output
    from installation.render.platform import choose

    check_new_output(args.sheet, "--sheet", args.force)

    choose(offscreen=True)
    from installation.options import ShowOptions
    from installation.render.thumbnails import save_sheet

    save_sheet(ShowOptions(args.sequence, args.grid).first_stage(), list(presets), args.sheet, args.force)
    print(f"sheet: {args.sheet}")


def _add_config(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "config", parents=[common], help="print a commented example of a --config file for play"
    )
    command.add_argument("--example", action="store_true", required=True, help="print the example")
    command.set_defaults(run=_run_config)


def _run_config(args: argparse.Namespace) -> None:
    from installation.cli.play import play_parser
    from installation.config import example_config

    print(example_config(play_parser(), "play"))


def _add_devices(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "devices",
        parents=[common],
        help="list the sound inputs (for --audio-device NAME) and MIDI inputs (for --midi NAME)",
    )
    command.set_defaults(run=_run_devices)


def _run_devices(args: argparse.Namespace) -> None:
    from installation.control.audio import list_inputs
    from installation.control.midi import list_inputs as midi_inputs
    from installation.control.midi import why_no_midi

    inputs = list_inputs()
    print("\n".join(inputs) if inputs else "No sound input devices found; the show will run silent.")
    missing = why_no_midi()
    midi = [] if missing else midi_inputs()
    print("MIDI inputs:" if midi else f"No MIDI inputs: {missing or 'none is connected'}.")
    for name in midi:
        print(f"  {name}")


def _add_ndi(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from installation.options import Bounds

    command = commands.add_parser(
        "ndi",
        parents=[common],
        help="list the NDI sources on the network (is the show's source there, under which name, from where)",
        description="List the NDI sources seen within --timeout seconds: each one's full name (HOST (name)) and address.",
        epilog=(
            "examples:\n  metamorph ndi\n      the sources seen in 2 s through mDNS and on this machine\n"
            "  metamorph ndi --timeout 5 --extra-ips 192.168.2.20,192.168.2.21\n"
            "      also ask two machines on another subnet directly"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument(
        "--timeout", type=Bounds(0.1, 60.0, 2.0), default=2.0, help="seconds to look for sources (default 2)"
    )
    command.add_argument(
        "--extra-ips",
        default="127.0.0.1",
        metavar="IPS",
        help="comma-separated addresses to ask directly besides mDNS (default 127.0.0.1: this machine's senders)",
    )
    command.set_defaults(run=_run_ndi)


def _run_ndi(args: argparse.Namespace) -> None:
    from installation.outputs.ndi import ndi_command

    if code := ndi_command(args.timeout, args.extra_ips or None):
        raise SystemExit(code)  # none seen: exit 1, for a technician's check


def _add_visitors(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from installation.flags import add_options
    from installation.visitors.options import VisitorOptions

    command = commands.add_parser(
        "visitors",
        parents=[common],
        help="the visitor page's address, and its QR code for a printed card (play --visitors opens the page)",
        description=textwrap.fill(
            "Print the address phones open to give the show a wish (play --visitors serves it), and with --qr "
            "write its QR code for a card on the wall. The address is this machine's on its local network, "
            "unless --visitor-url gives the one phones reach (a name, another port behind a router)."
        ),
        epilog="example:\n  metamorph visitors --qr card.png --visitor-port 8081",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("--qr", type=Path, metavar="FILE", help="write the QR code here (.png, .svg, .pdf or .eps)")
    command.add_argument("--force", action="store_true", help="replace the QR code file if it exists")
    add_options(command, VisitorOptions, "visitors")
    command.set_defaults(run=_run_visitors)


def _run_visitors(args: argparse.Namespace) -> None:
    from installation.visitors.qr import page_url, write_qr

    url = page_url(args.visitor_port, args.visitor_url)
    if args.qr is not None:
        write_qr(url, args.qr, args.force)
        print(f"the QR code of {url} is in {args.qr}")
    else:
        print(url)


def _add_touchosc(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "touchosc",
        parents=[common],
        help="write a TouchOSC layout whose controls send the addresses metamorph maps",
    )
    command.add_argument(
        "--out",
        type=Path,
        required=True,
        help="the layout to write: FILE.tosc for the current TouchOSC, FILE.touchosc for TouchOSC Mk1 (landscape iPad)",
    )
    command.add_argument("--preview", type=Path, metavar="PNG", help="also draw the written layout into this picture")
    command.add_argument(
        "--osc-map", type=Path, help="the mapping to build the layout from (default: the built-in one)"
    )
    command.add_argument("--force", action="store_true", help="replace an existing file")
    command.set_defaults(run=_run_touchosc)


def _run_touchosc(args: argparse.Namespace) -> None:
    from installation.control.mapping import load_mapping
    from installation.control.touchosc import write_layout
    from installation.files import check_new_output

    check_new_output(args.out, "--out", args.force)
    if args.preview:
        check_new_output(args.preview, "--preview", args.force)
    if args.out.suffix.lower() not in (".tosc", ".touchosc"):
        raise UserError(f"The output {args.out} needs the ending .tosc (TouchOSC) or .touchosc (TouchOSC Mk1).")
    mapping = load_mapping(args.osc_map) if args.osc_map else load_mapping()
    write_layout(mapping, args.out, replace=args.force)
    print(
        f"TouchOSC layout written to {args.out}: open it in TouchOSC, send to this machine's port 8000, "
        "receive on port 9000"
    )
    if args.preview:
        from installation.control.preview import draw_preview

        pages = draw_preview(args.out, args.preview, replace=args.force)
        print(f"Preview of its {pages} page(s) drawn from the written file: {args.preview}")
