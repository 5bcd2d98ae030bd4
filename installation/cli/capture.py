"""``metamorph capture`` and ``metamorph concat``: the options declared on ``CaptureOptions``."""

from __future__ import annotations

import argparse
import logging
import textwrap
from pathlib import Path

from installation import signals
from installation.cli.common import add_ray, add_show_options, check_ray_address, show_options
from installation.flags import add_options, options_from

log = logging.getLogger(__name__)

_CAPTURE_EXAMPLES = """\
examples:
  metamorph capture --out demo.mp4 --seconds 20
  metamorph capture keyframes/alps --out alps.mp4 --audio music.flac --codec h265
  metamorph capture --out part1.mp4 --frames 0:3600 && metamorph capture --out part2.mp4 --frames 3600:7200
  metamorph concat part1.mp4 part2.mp4 --out whole.mp4
  metamorph capture --mode morph --out morph.mp4 --size 1920x1080
"""


def add(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``capture`` and ``concat``."""
    _add_capture(commands, common)
    _add_concat(commands, common)


def _add_capture(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from installation.options import CaptureOptions, TempoOptions

    command = commands.add_parser(
        "capture",
        parents=[common],
        help="render the show offline, frame-exact, to PNG frames or a 4K video with music",
        description=textwrap.fill(
            "Render the same show as `metamorph play`, headless and with a fixed time step: frame i is "
            "what the live loop shows at i/fps seconds. OUT ending in .mp4, .mov or .mkv writes a "
            "video (with --audio muxed in); any other OUT is a folder of frame_000000.png ... Long "
            "renders split with --frames A:B and join with `metamorph concat`. Ctrl-C keeps a "
            "playable video of the frames done."
        ),
        epilog=_CAPTURE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("sequence", nargs="?", type=Path, help="a keyframe sequence folder (default: the demo)")
    add_options(command, CaptureOptions, "capture")
    add_ray(command, "the frames are split into chunks, each a task that renders a segment, joined in order")
    add_show_options(command, outputs=False)
    add_options(command, TempoOptions, "capture")
    command.set_defaults(run=_run_capture)


def _run_capture(args: argparse.Namespace) -> None:
    from installation.render.platform import choose

    signals.install()
    choose(offscreen=True)
    from installation.capture import capture, with_beats
    from installation.options import CaptureOptions, TempoOptions
    from installation.scene.tempo import beats_path, write_beats

    check_ray_address(args.ray)
    options = options_from(
        CaptureOptions, args, show=show_options(args), ray=args.ray, tempo=options_from(TempoOptions, args)
    )
    options = with_beats(options)
    if options.ray is None:
        capture(options)
    else:
        from installation.cluster.render import capture_on_ray

        capture_on_ray(options)
    if options.tempo.beats is not None:
        log.info("the beats used are in %s", write_beats(options.tempo.beats, beats_path(options.out), options.force))


def _add_concat(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "concat",
        parents=[common],
        help="join videos rendered in ranges (capture --frames A:B) into one, without re-encoding",
    )
    command.add_argument("parts", nargs="+", type=Path, help="the parts, in order")
    command.add_argument("--out", type=Path, required=True, help="the joined video")
    command.add_argument("--force", action="store_true", help="replace an existing output")
    command.set_defaults(run=_run_concat)


def _run_concat(args: argparse.Namespace) -> None:
    from installation.capture import join

    join(args.parts, args.out, args.force)
    print(f"joined {len(args.parts)} parts into {args.out}")
