"""The ``metamorph`` command: argument parsing only; each subcommand calls one function.

A ``UserError`` ends as one line on stderr and exit code 2; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Sequence

from installation import __version__
from installation.errors import UserError

_EXAMPLES = """\
examples:
  metamorph keyframes --demo
      rebuild the built-in demo (a drawn alpine scene) in keyframes/demo
  metamorph keyframes photo.jpg --prompt "Artistic wavy version with subtle pink and violet tones"
      photo + prompt -> keyframes/photo/ (16 frames, manifest.json, contact.png)
  metamorph keyframes --from-noise --prompt "Swiss Matterhorn in a cubist artwork style" --out keyframes/cubist
      text-to-image: the sequence starts from pure noise
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        args.run(args)
    except UserError as error:
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"metamorph: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("metamorph: interrupted.", file=sys.stderr)
        return 130
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors"
    )
    parser = argparse.ArgumentParser(
        prog="metamorph",
        description="Diffusive Metamorphosis: a photograph becomes a live installation of diffusing spheres.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"metamorph {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_keyframes(commands, common)
    return parser


def _add_keyframes(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from installation.keyframes.style import describe_vocabulary

    command = commands.add_parser(
        "keyframes",
        parents=[common],
        help="photo + prompt -> a keyframe sequence (the photo, captured denoising steps, the result)",
        description=textwrap.fill(
            "Turn a photo and a prompt into a keyframe sequence: the photo, evenly spaced captured "
            "denoising steps, and the final reinterpretation, saved as numbered PNGs, manifest.json "
            "and contact.png. The procedural backend needs no model weights: it walks a real DDIM "
            "noise schedule, but its clean-image estimate is an analytic stylisation steered by the "
            "prompt's known words, not a neural network. Words it reads: " + describe_vocabulary() + "."
        ),
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("photo", nargs="?", type=Path, help="the source photo (PNG, JPEG, WebP ...)")
    command.add_argument("--prompt", help="what the photo becomes, in words")
    command.add_argument(
        "--backend",
        choices=["procedural"],
        default="procedural",
        help="procedural: weights-free analytic stylisation on a real noise schedule (default)",
    )
    command.add_argument("--from-noise", action="store_true", help="text-to-image: start from pure noise, no photo")
    command.add_argument("--demo", action="store_true", help="rebuild the built-in demo sequence (keyframes/demo)")
    command.add_argument("--captures", type=int, default=15, help="denoising steps to capture (default 15)")
    command.add_argument("--steps", type=int, default=50, help="denoising steps of the schedule (default 50)")
    command.add_argument(
        "--strength", type=float, default=0.75,
        help="how far the photo is noised, 0..1 (default 0.75); steps executed = int(steps x strength)",
    )
    command.add_argument("--seed", type=int, default=0, help="random seed; same arguments, same frames (default 0)")
    command.add_argument(
        "--capture", choices=["x0", "latents"], default="x0",
        help="x0: the clean-image estimate of each step, sharpening (default); latents: the noisy state",
    )
    command.add_argument("--size", type=_size, help="frame size WxH (default: the photo's, at most 1920 wide)")
    command.add_argument("--out", type=Path, help="output folder (default: keyframes/PHOTO-NAME)")
    command.add_argument("--force", action="store_true", help="replace the output folder's sequence")
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    command.set_defaults(run=_run_keyframes)


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; write it as WIDTHxHEIGHT, e.g. 1920x1080")
    return int(match[1]), int(match[2])


def _run_keyframes(args: argparse.Namespace) -> None:
    from installation.keyframes import demo
    from installation.keyframes.make import KeyframeRequest, load_photo, make_keyframes
    from installation.keyframes.sequence import CONTACT_SHEET
    from installation.paths import keyframes_dir

    if args.demo:
        sequence = demo.build_demo(quiet=args.quiet)
    else:
        _check_source(args)
        photo = None if args.from_noise else load_photo(args.photo)
        name = "from-noise" if args.from_noise else _slug(args.photo.stem)
        request = KeyframeRequest(
            prompt=args.prompt or "",
            out=args.out or keyframes_dir() / name,
            photo=photo,
            seed=args.seed,
            steps=args.steps,
            strength=args.strength,
            captures=args.captures,
            capture_mode=args.capture,
            size=args.size,
            force=args.force,
            quiet=args.quiet,
        )
        sequence = make_keyframes(request)
    print(f"{len(sequence)} keyframes in {sequence.folder}")
    print(f"contact sheet: {sequence.folder / CONTACT_SHEET}")


def _check_source(args: argparse.Namespace) -> None:
    if args.photo is not None and args.from_noise:
        raise UserError(f"Both a photo ({args.photo}) and --from-noise were given; drop one of them.")
    if args.photo is None and not args.from_noise:
        raise UserError("No photo was given; name a photo file, or add --from-noise (or use --demo).")
    if args.prompt is None:
        raise UserError('No prompt was given; add --prompt "what the photo becomes".')


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "sequence"
