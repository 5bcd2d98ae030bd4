"""The ``metamorph`` command: argument parsing only; each subcommand calls one function.

A ``UserError`` ends as one line on stderr and exit code 2; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import re
import sys
import textwrap
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from installation import __version__, signals
from installation.errors import UserError
from installation.logs import LogFile, RateLimit

if TYPE_CHECKING:
    from installation.keyframes.request import KeyframeRequest, Photo
    from installation.options import TempoOptions

log = logging.getLogger(__name__)

RATE_LIMIT = RateLimit()
"""One limiter for both log handlers: a warning that repeats is written a few times a minute."""
STDERR = logging.StreamHandler()

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
    _add_keyframes(commands, common)
    _add_play(commands, common)
    _add_capture(commands, common)
    _add_concat(commands, common)
    _add_bench(commands, common)
    _add_presets(commands, common)
    _add_devices(commands, common)
    _add_ndi(commands, common)
    _add_wall_test(commands, common)
    _add_touchosc(commands, common)
    _add_config(commands, common)
    return parser


def _add_keyframes(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from installation.keyframes.make import MAX_SEED, MAX_SIDE
    from installation.keyframes.procedural import TRAINING_STEPS
    from installation.keyframes.request import KeyframeRequest
    from installation.keyframes.style import describe_vocabulary
    from installation.options import Bounds, Size

    request = KeyframeRequest(prompt="", out=Path("."))

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
    command.add_argument(
        "photo", nargs="*", type=Path, help="the source photo (PNG, JPEG, WebP ...); several need --ray"
    )
    command.add_argument(
        "--prompt", nargs="+", action="extend", help="what the photo becomes, in words; several need --ray"
    )
    command.add_argument(
        "--backend",
        choices=["procedural", "diffusers"],
        help="diffusers: a real diffusion model (the default when --model is given; needs the diffusion "
        "extra); procedural: weights-free analytic stylisation on a real noise schedule (the default otherwise)",
    )
    command.add_argument(
        "--model",
        help="diffusers model: a hub id or a local folder (default stable-diffusion-v1-5/stable-diffusion-v1-5)",
    )
    command.add_argument(
        "--negative-prompt", default=request.negative_prompt, help="what the model should avoid (diffusers)"
    )
    command.add_argument(
        "--guidance",
        type=Bounds(0.0, 30.0, request.guidance),
        default=request.guidance,
        help="classifier-free guidance, 0..30 (default %(default)g; 0 for turbo models)",
    )
    command.add_argument(
        "--scheduler",
        help="diffusers scheduler: ddim, ddpm, pndm, lms, euler, euler-a, heun, dpm, unipc, lcm (default: the model's)",
    )
    command.add_argument("--device", default=request.device, help="auto (default), cpu, cuda or mps")
    command.add_argument(
        "--dtype", default=request.dtype, help="auto (default: fp16 on a GPU, fp32 on the CPU), fp16, bf16 or fp32"
    )
    command.add_argument(
        "--preview-vae",
        metavar="ID_OR_FOLDER",
        help="a small autoencoder (e.g. AutoencoderTiny) for the intermediate frames: much cheaper decodes",
    )
    command.add_argument("--from-noise", action="store_true", help="text-to-image: start from pure noise, no photo")
    command.add_argument("--demo", action="store_true", help="rebuild the built-in demo sequence (keyframes/demo)")
    command.add_argument(
        "--captures",
        type=Bounds(1, TRAINING_STEPS, request.captures, whole=True),
        default=request.captures,
        help="denoising steps to capture (default %(default)s)",
    )
    command.add_argument(
        "--steps",
        type=Bounds(1, TRAINING_STEPS, request.steps, whole=True),
        default=request.steps,
        help="denoising steps of the schedule (default %(default)s)",
    )
    command.add_argument(
        "--strength",
        type=Bounds(0.01, 1.0, request.strength),
        default=request.strength,
        help="how far the photo is noised, 0..1 (default %(default)g); steps executed = int(steps x strength)",
    )
    command.add_argument(
        "--seed",
        type=Bounds(0, MAX_SEED, request.seed, whole=True),
        nargs="+",
        action="extend",
        help=f"random seed; same arguments, same frames (default {request.seed}); several need --ray",
    )
    command.add_argument(
        "--capture",
        choices=["x0", "latents"],
        default=request.capture_mode,
        help="x0: the clean-image estimate of each step, sharpening (default); latents: the noisy state",
    )
    command.add_argument(
        "--size",
        type=Size(16, MAX_SIDE, (768, 512)),
        help="frame size WxH (default: the photo's aspect; procedural at most 1920 wide, diffusers at the model's native resolution)",
    )
    command.add_argument(
        "--out",
        type=Path,
        help="output folder (default: keyframes/PHOTO-NAME); with --ray, the folder of the sequences, each named PHOTO-PROMPT-sSEED",
    )
    command.add_argument("--force", action="store_true", help="replace the output folder's sequence")
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_ray(command, "one task per photo x prompt x seed, one GPU each where the cluster has GPUs")
    command.set_defaults(run=_run_keyframes)


def _add_ray(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help=f"run on the Ray cluster at ADDRESS (host:port, or ray://host:10001), or on a new local Ray instance without it: {what} (needs the cluster extra; put it after the positional arguments)",
    )


def _add_play(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
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
    from installation.control.osc import DEFAULT_PORT
    from installation.control.oscquery import DEFAULT_HTTP_PORT
    from installation.gallery import GalleryOptions
    from installation.options import Address, Bounds, PlayOptions, Size
    from installation.watchdog import SHORTEST_TIMEOUT

    play, gallery_defaults = PlayOptions(), GalleryOptions()
    command.add_argument(
        "sequence",
        nargs="?",
        type=Path,
        help="a keyframe sequence folder, or a folder of them (a playlist); default: the demo",
    )
    _add_window(command)
    gallery = command.add_argument_group("gallery")
    gallery.add_argument(
        "--config",
        type=Path,
        help="read options from a TOML file (the command line wins); see `metamorph config --example`",
    )
    gallery.add_argument("--shuffle", action="store_true", help="play a folder of sequences in random order")
    gallery.add_argument(
        "--open", metavar="HH:MM-HH:MM", help="daily opening hours; outside them the screen is black or dimmed"
    )
    gallery.add_argument(
        "--closed",
        choices=["black", "dim"],
        default=gallery_defaults.closed,
        help="the look outside opening hours (default %(default)s)",
    )
    gallery.add_argument(
        "--state",
        default="auto",
        metavar="FILE",
        help="where the keyframe and parameters are saved every 5 s and restored at start (default ~/.local/state/metamorph/state.json; none: off)",
    )
    gallery.add_argument("--log-file", type=Path, help="also log to this file, rotated at 5 MB")
    gallery.add_argument(
        "--heartbeat",
        type=Bounds(1.0, 86_400.0, gallery_defaults.heartbeat),
        default=gallery_defaults.heartbeat,
        metavar="SECONDS",
        help="a log line with fps, memory and keyframe this often (default %(default)g)",
    )
    gallery.add_argument(
        "--watchdog",
        type=Bounds(SHORTEST_TIMEOUT, 3600.0, gallery_defaults.watchdog or SHORTEST_TIMEOUT, off=0.0),
        default=gallery_defaults.watchdog,
        metavar="SECONDS",
        help="exit with code 3 when no frame was drawn for this long, so the service restarts (default %(default)g; 0: off)",
    )
    control = command.add_argument_group("control")
    control.add_argument(
        "--osc-port",
        type=Bounds(0, 65535, DEFAULT_PORT, whole=True),
        default=play.osc_port,
        help="UDP port for OSC (default %(default)s; 0 turns OSC off)",
    )
    control.add_argument(
        "--osc-allow",
        nargs="+",
        default=list(play.osc_allow),
        metavar="CIDR",
        help="accept OSC only from these networks, e.g. 192.168.1.0/24, or `any` (default: this machine and the private and link-local networks)",
    )
    control.add_argument(
        "--osc-feedback",
        type=Address(),
        nargs="+",
        default=[],
        metavar="HOST:PORT",
        help="send the show's values only here (default: every controller heard from in the last 10 minutes, on its port 9000)",
    )
    control.add_argument(
        "--osc-map",
        type=Path,
        help="TOML file mapping controller addresses (default: the TouchOSC layout of `metamorph touchosc`)",
    )
    control.add_argument(
        "--http-port",
        type=Bounds(0, 65535, DEFAULT_HTTP_PORT, whole=True),
        default=play.http_port,
        help="TCP port for OSCQuery (JSON tree, websocket, zeroconf) and the control page at /control "
        "(default %(default)s; 0 turns it off); the same --osc-allow networks apply",
    )
    control.add_argument(
        "--control-key",
        metavar="KEY",
        help="writes from the network (the control page, OSCQuery clients) need this key; the page asks once "
        "(ps shows it: --control-key-file or METAMORPH_CONTROL_KEY do not)",
    )
    control.add_argument(
        "--control-key-file",
        type=Path,
        metavar="FILE",
        help="the control key, on the first line of FILE (kept out of ps)",
    )
    control.add_argument(
        "--http-readonly", action="store_true", help="the web page and OSCQuery only show the show, never steer it"
    )
    control.add_argument(
        "--audio",
        type=_audio_source,
        default=play.audio,
        metavar="input|none|FILE",
        help="input: steer by live sound (default); none: no sound; a music file: steer by it, heard in show time (with --fixed-step, what `capture --audio FILE` renders)",
    )
    control.add_argument(
        "--audio-device", metavar="NAME", help="sound input whose name contains NAME (see `metamorph devices`)"
    )
    control.add_argument(
        "--midi",
        metavar="NAME",
        help="MIDI controller whose input name contains NAME (see `metamorph devices`), mapped by the [[midi.controls]] of --osc-map",
    )
    _add_show_options(command)
    _add_run_length(command)
    command.add_argument(
        "--fixed-step",
        type=Bounds(1.0, 240.0, 60.0),
        nargs="?",
        const=60.0,
        metavar="FPS",
        help="advance exactly 1/FPS s per frame, 60 when FPS is left out (frame-exact: the frames `capture --fps FPS` writes)",
    )
    command.add_argument("--osd", action="store_true", help="start with the on-screen display shown")
    _add_tempo(command, live=True)
    outputs = command.add_argument_group("video out (pip install -e '.[ndi]')")
    outputs.add_argument(
        "--ndi",
        nargs="?",
        const="metamorph",
        metavar="NAME",
        help="send every frame as the NDI source NAME (default name: metamorph), for Resolume, OBS, vMix",
    )
    outputs.add_argument(
        "--ndi-size",
        type=Size(16, 16_384, (1920, 1080)),
        metavar="WxH",
        help="the NDI picture's size, scaled on the GPU (default: the window's)",
    )
    outputs.add_argument(
        "--ndi-alpha", action="store_true", help="send BGRA with alpha (spheres over transparency) instead of UYVY"
    )
    _add_wall(command)
    command.set_defaults(run=_run_play, command_parser=command, command_name="play")
    return command


def _add_window(command: argparse.ArgumentParser) -> None:
    """Where the show is seen: the window or a display, full screen or not."""
    from installation.options import Bounds, PlayOptions, Size

    play = PlayOptions()
    command.add_argument("--fullscreen", action="store_true", help="full screen, cursor hidden")
    command.add_argument(
        "--display",
        type=Bounds(0, 64, play.display, whole=True),
        default=play.display,
        help=f"which display to use (default {play.display})",
    )
    command.add_argument(
        "--window",
        type=Size(16, 16_384, play.window),
        default=play.window,
        help="window size WxH (default %(default)s); a wall's tile",
    )
    command.add_argument("--no-vsync", action="store_true", help="do not wait for the display's refresh")


def _add_run_length(command: argparse.ArgumentParser) -> None:
    from installation.options import Bounds

    command.add_argument(
        "--frames", type=Bounds(1, 10**10, 600, whole=True), help="stop after N frames (up to 10^10: 5 years at 60 fps)"
    )
    command.add_argument("--screenshot", type=Path, help="save the last frame to this PNG")


def _add_wall_test(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
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
    _add_window(command)
    _add_run_length(command)
    _add_wall(command)
    command.set_defaults(run=_run_wall_test, command_parser=command, command_name="wall-test")


def _run_wall_test(args: argparse.Namespace) -> None:
    from installation.render.platform import choose

    signals.install()
    choose(offscreen=False)
    from installation.app import play
    from installation.gallery import GalleryOptions
    from installation.options import PlayOptions, ShowOptions
    from installation.render.video import check_screenshot
    from installation.scene.parameters import CORNERS
    from installation.scene.presets import Preset
    from installation.wall.card import card_sequence

    wall = _wall_options(args)
    card = Preset("test card", "the card as it is: no look, no motion", {"speed": 0.0})
    corners = dict(zip(CORNERS, args.corners, strict=True)) if args.corners else {}
    show = ShowOptions(card_sequence(wall.layout(args.window)), parameters=corners, preset=card)
    play(
        PlayOptions(
            show=show,
            gallery=GalleryOptions(state_file=None, watchdog=None),
            window=args.window,
            fullscreen=args.fullscreen,
            display=args.display,
            vsync=not args.no_vsync,
            osc_port=None,
            http_port=None,
            audio="none",
            frames=args.frames,
            screenshot=check_screenshot(args.screenshot),
            osd=False,
            wall=wall,
        )
    )


def _add_wall(command: argparse.ArgumentParser) -> None:
    """The video wall's options: which tile, its edges and pins, and who leads."""
    from installation.options import Address, Bounds, WallOptions
    from installation.render.wall import corners_type, grid_type, tile_type
    from installation.wall.link import DEFAULT_PORT

    wall = WallOptions()
    group = command.add_argument_group(
        "video wall",
        "Each machine shows one tile of one canvas (its --window is a tile). One machine leads (--lead), the "
        "others follow it (--leader HOST) and draw the leader's frames; a tile with neither plays alone, as the leader "
        "would. `metamorph wall-test` shows a card for lining the tiles up.",
    )
    group.add_argument(
        "--wall", type=grid_type, default=wall.grid, metavar="COLSxROWS", help="tiles of the wall, e.g. 3x1"
    )
    group.add_argument(
        "--tile", type=tile_type, default=wall.tile, metavar="C,R", help="this machine's tile, from 0,0 at the top left"
    )
    strip = group.add_mutually_exclusive_group()
    strip.add_argument(
        "--bezel",
        type=Bounds(0, 4000, 40, whole=True),
        default=wall.bezel,
        metavar="PX",
        help="displays: the hidden strip between two screens, in pixels of a tile",
    )
    strip.add_argument(
        "--overlap",
        type=Bounds(0, 4000, 200, whole=True),
        default=wall.overlap,
        metavar="PX",
        help="projectors: the strip two neighbours share, blended with soft edges",
    )
    group.add_argument(
        "--corners",
        type=corners_type,
        metavar="x0,y0,x1,y1,x2,y2,x3,y3",
        help="corner pin (keystone): where the top-left, top-right, bottom-right, bottom-left corners land, "
        "as shares of the output (default 0,0,1,0,1,1,0,1); each is also a parameter (--corner-x0 ..., "
        "/corner/x0 ..., the control page), set live and saved with the state",
    )
    role = group.add_mutually_exclusive_group()
    role.add_argument(
        "--lead",
        type=Bounds(1, 65535, DEFAULT_PORT, whole=True),
        nargs="?",
        const=DEFAULT_PORT,
        metavar="PORT",
        help=f"lead the wall: send every frame to the followers that ask, from UDP PORT (default {DEFAULT_PORT})",
    )
    role.add_argument(
        "--leader",
        dest="wall_leader",
        type=Address(DEFAULT_PORT, f"10.0.0.2:{DEFAULT_PORT}"),
        metavar="HOST[:PORT]",
        help="follow the leader at HOST: draw its frames (sound, OSC, MIDI and tempo act on the leader; "
        "--follow is the look's motion parameter)",
    )
    group.add_argument(
        "--wall-timeout",
        type=Bounds(0.1, 3600.0, wall.timeout),
        default=wall.timeout,
        metavar="SECONDS",
        help="a follower that hears no leader this long fades to black (default %(default)g)",
    )
    group.add_argument(
        "--wall-port",
        type=Bounds(0, 65535, 9101, whole=True),
        default=wall.port,
        metavar="PORT",
        help="the UDP port a follower receives on (default: any free one)",
    )


def _wall_options(args: argparse.Namespace):
    from installation.options import WallOptions

    return WallOptions(
        grid=args.wall,
        tile=args.tile,
        bezel=args.bezel,
        overlap=args.overlap,
        lead=args.lead,
        follow=args.wall_leader,
        timeout=args.wall_timeout,
        port=args.wall_port,
    )


_PLAY_KEYS = """\
keys:
  space pause   left/right previous/next   f full screen   h on-screen display
  r reload shaders   s screenshot   q or Esc quit
  (shaders/ also reload by themselves when a file changes)
"""


def _add_show_options(command: argparse.ArgumentParser) -> None:
    """The look and motion options of ``play`` and ``capture``, one per registry parameter."""
    from installation.options import Bounds, ShowOptions
    from installation.scene.conductor import Order
    from installation.scene.parameters import PLAYER_PARAMETERS
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
        look.add_argument(
            spec.flag,
            dest=f"parameter_{spec.name}",
            type=Bounds(spec.minimum, spec.maximum, spec.default),
            metavar="X",
            help=f"{spec.help} ({spec.minimum:g}..{spec.maximum:g}, default {spec.default:g})",
        )


def _show_options(args: argparse.Namespace):
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


def _run_play(args: argparse.Namespace) -> None:
    from installation.config import TOML_LIMIT
    from installation.control.websupervisor import control_key
    from installation.files import check_input
    from installation.render.platform import choose

    if args.osc_map is not None:  # read once the window is open: refused before it opens
        check_input(args.osc_map, "OSC map", "--osc-map", TOML_LIMIT)
    signals.install()
    choose(offscreen=False)
    from installation.app import play
    from installation.control.osc import networks
    from installation.gallery import GalleryOptions
    from installation.options import PlayOptions
    from installation.render.video import check_screenshot
    from installation.scene.schedule import parse_schedule
    from installation.state import default_state_file

    networks(args.osc_allow)
    state = {"auto": default_state_file(), "none": None}.get(args.state, Path(args.state))
    gallery = GalleryOptions(
        schedule=parse_schedule(args.open) if args.open else None,
        closed=args.closed,
        state_file=state,
        heartbeat=args.heartbeat,
        watchdog=args.watchdog or None,
    )
    options = PlayOptions(
        show=_show_options(args),
        gallery=gallery,
        shuffle=args.shuffle,
        window=args.window,
        fullscreen=args.fullscreen,
        display=args.display,
        vsync=not args.no_vsync,
        osc_port=args.osc_port or None,
        osc_allow=tuple(args.osc_allow),
        osc_feedback=tuple(args.osc_feedback),
        http_port=args.http_port or None,
        control_key=control_key(args.control_key, args.control_key_file),
        http_readonly=args.http_readonly,
        audio=args.audio,
        audio_device=args.audio_device,
        midi=args.midi,
        frames=args.frames,
        screenshot=check_screenshot(args.screenshot),
        fixed_step=args.fixed_step,
        osd=args.osd,
        ndi=args.ndi,
        ndi_size=args.ndi_size,
        ndi_alpha=args.ndi_alpha,
        tempo=_tempo_options(args),
        wall=_wall_options(args),
    )
    options.wall.layout(options.window)  # a tile off the wall is said before anything opens
    play(dataclasses.replace(options, osc_map=args.osc_map) if args.osc_map else options)


def _add_tempo(command: argparse.ArgumentParser, live: bool) -> None:
    """The beat options of play (``live``: Link, MIDI clock, tap, the sound) and of capture (the
    music's beats, or a tempo given)."""
    from installation.options import Bounds, TempoOptions
    from installation.scene.tempo import MAX_TEMPO, MIN_TEMPO, SYNCS

    defaults = TempoOptions()
    tempo = command.add_argument_group("on the beat")
    syncs = SYNCS if live else ("free", "audio")
    tempo.add_argument(
        "--sync",
        choices=syncs,
        default=defaults.sync,
        help="free (default): transitions by seconds; "
        + (
            "link: the Ableton Link session (pip install -e '.[link]'), midi: MIDI clock from --midi-clock, "
            "tap: the key t or /tap, audio: the sound input's beat"
            if live
            else "audio: the beats of --audio, found offline (pip install -e '.[tempo]'); see also --bpm"
        ),
    )
    tempo.add_argument(
        "--transition-beats",
        type=Bounds(0.25, 64.0, defaults.transition_beats),
        default=defaults.transition_beats,
        help="beats a transition lasts; it lands on a bar line (default %(default)g)",
    )
    tempo.add_argument(
        "--hold-beats",
        type=Bounds(0.0, 256.0, defaults.hold_beats),
        default=defaults.hold_beats,
        help="beats each keyframe rests (default %(default)g)",
    )
    tempo.add_argument(
        "--quantum",
        type=Bounds(1.0, 16.0, defaults.quantum),
        default=defaults.quantum,
        help="beats in a bar (default %(default)g)",
    )
    tempo.add_argument(
        "--sync-latency",
        type=Bounds(-1000.0, 1000.0, 0.0),
        default=defaults.latency_ms,
        metavar="MS",
        help="draw this many milliseconds ahead of the beat: a projector's or mixer's delay (default 0)",
    )
    tempo.add_argument("--beat-kick", action="store_true", help="a kick on every beat in place of the sound's onsets")
    if live:
        tempo.add_argument("--midi-clock", metavar="NAME", help="the MIDI input sending clock (part of its name)")
        tempo.add_argument(
            "--link-start-stop", action="store_true", help="with --sync link: no new transition while Link is stopped"
        )
        tempo.add_argument(
            "--bpm", type=Bounds(MIN_TEMPO, MAX_TEMPO, 120.0), help="where Link and tap start (default 120)"
        )
        return
    tempo.add_argument(
        "--bpm",
        type=Bounds(MIN_TEMPO, MAX_TEMPO, 120.0),
        help="a known tempo: transitions on its bars (with --offset), no beat tracking",
    )
    tempo.add_argument(
        "--offset",
        type=Bounds(-3600.0, 3600.0, 0.0),
        default=defaults.offset,
        help="seconds into the capture of the first downbeat at --bpm (default 0)",
    )


def _tempo_options(args: argparse.Namespace) -> TempoOptions:
    from installation.options import TempoOptions

    return TempoOptions(
        sync=args.sync,
        transition_beats=args.transition_beats,
        hold_beats=args.hold_beats,
        quantum=args.quantum,
        latency_ms=args.sync_latency,
        beat_kick=args.beat_kick,
        midi_clock=getattr(args, "midi_clock", None),
        start_stop=getattr(args, "link_start_stop", False),
        bpm=args.bpm,
        offset=getattr(args, "offset", 0.0),
    )


def _audio_source(text: str) -> str:
    """``input``, ``none``, or the path of an existing music file."""
    if text in ("input", "none") or Path(text).is_file():
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is neither input, none, nor a music file that exists")


def _add_capture(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
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
    from installation.options import Bounds, Size
    from installation.options import CaptureOptions as defaults

    command.add_argument("sequence", nargs="?", type=Path, help="a keyframe sequence folder (default: the demo)")
    command.add_argument("--out", type=Path, required=True, help="a .mp4/.mov/.mkv video, or a folder for PNG frames")
    command.add_argument(
        "--size",
        type=Size(16, 16_384, defaults.size),
        default=defaults.size,
        help=f"output size WxH (default {defaults.size[0]}x{defaults.size[1]})",
    )
    command.add_argument(
        "--fps",
        type=Bounds(1.0, 240.0, defaults.fps),
        default=defaults.fps,
        help="frames per second, 1..240 (default %(default)g)",
    )
    command.add_argument(
        "--seconds",
        type=Bounds(0.01, 86_400.0, 20.0),
        help="length, up to 24 hours (default: the music's, else one pass of the sequence)",
    )
    command.add_argument("--frames", type=_frame_range, metavar="A:B", help="render only frames A to B-1 of the whole")
    command.add_argument(
        "--audio",
        type=Path,
        help="music to mux in (wav, flac, mp3); it steers the show as a live input would, and sets the default length",
    )
    command.add_argument("--codec", default=defaults.codec, help="video codec: h264 (default), h265, prores or av1")
    command.add_argument(
        "--quality",
        type=Bounds(1, 100, defaults.quality, whole=True),
        default=defaults.quality,
        help="1..100, higher is better and larger (default %(default)s)",
    )
    command.add_argument(
        "--encoder-preset",
        dest="encoder_preset",
        default=defaults.encoder_preset,
        help="h264/h265 speed preset, ultrafast..veryslow (default %(default)s; ultrafast lets encoding keep up with rendering on few cores)",
    )
    command.add_argument(
        "--mode",
        choices=["spheres", "morph"],
        default=defaults.mode,
        help="spheres (default), or morph: the plain cross-fade video of the source piece",
    )
    command.add_argument(
        "--in-betweens",
        type=Bounds(0, 1000, defaults.in_betweens, whole=True),
        default=defaults.in_betweens,
        help="morph mode: frames between two keyframes (default %(default)s)",
    )
    command.add_argument("--force", action="store_true", help="replace an existing output")
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_ray(command, "the frames are split into chunks, each a task that renders a segment, joined in order")
    command.add_argument(
        "--chunk-frames",
        type=Bounds(1, 10**7, 1800, whole=True),
        help="with --ray: frames per task (default: about 30 s of work each)",
    )
    _add_show_options(command)
    _add_tempo(command, live=False)
    command.set_defaults(run=_run_capture)


_CAPTURE_EXAMPLES = """\
examples:
  metamorph capture --out demo.mp4 --seconds 20
  metamorph capture keyframes/alps --out alps.mp4 --audio music.flac --codec h265
  metamorph capture --out part1.mp4 --frames 0:3600 && metamorph capture --out part2.mp4 --frames 3600:7200
  metamorph concat part1.mp4 part2.mp4 --out whole.mp4
  metamorph capture --mode morph --out morph.mp4 --size 1920x1080
"""


def _frame_range(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", text)
    if not match or int(match[1]) >= int(match[2]):
        raise argparse.ArgumentTypeError(f"{text!r} is not a frame range; write it as A:B with A < B, e.g. 0:600")
    return int(match[1]), int(match[2])


def _run_capture(args: argparse.Namespace) -> None:
    from installation.render.platform import choose

    signals.install()
    choose(offscreen=True)
    from installation.capture import capture, with_beats
    from installation.options import CaptureOptions
    from installation.scene.tempo import beats_path, write_beats

    _check_ray_address(args.ray)
    options = CaptureOptions(
        out=args.out,
        show=_show_options(args),
        size=args.size,
        fps=args.fps,
        seconds=args.seconds,
        frames=args.frames,
        audio=args.audio,
        codec=args.codec,
        quality=args.quality,
        encoder_preset=args.encoder_preset,
        force=args.force,
        mode=args.mode,
        in_betweens=args.in_betweens,
        quiet=args.quiet,
        ray=args.ray,
        chunk_frames=args.chunk_frames,
        tempo=_tempo_options(args),
    )
    options = with_beats(options)
    if options.ray is None:
        capture(options)
    else:
        from installation.cluster.render import capture_on_ray

        capture_on_ray(options)
    if options.tempo.beats is not None:
        log.info("the beats used are in %s", write_beats(options.tempo.beats, beats_path(options.out), options.force))


def _check_ray_address(address: str | None) -> None:
    """Refuse a file or folder taken for the cluster's address (``--ray`` before a positional)."""
    if address and Path(address).exists():
        raise UserError(f"--ray took {address} for the cluster's address; put --ray after it, or write --ray=ADDRESS.")


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
    from installation.config import example_config

    commands = Parser(prog="metamorph").add_subparsers(parser_class=Parser)
    print(example_config(_add_play(commands, Parser(add_help=False)), "play"))


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


def _run_keyframes(args: argparse.Namespace) -> None:
    from installation.keyframes import demo
    from installation.keyframes.make import load_photo, make_keyframes
    from installation.keyframes.sequence import CONTACT_SHEET
    from installation.paths import keyframes_dir

    if args.demo:
        sequence = demo.build_demo(quiet=args.quiet)
    elif args.ray is not None:
        _run_keyframes_on_ray(args)
        return
    else:
        _check_source(args)
        if len(args.photo) > 1 or len(args.prompt) > 1 or len(args.seed or []) > 1:
            raise UserError(
                "Several photos, prompts or seeds make several runs; add --ray to run them as Ray tasks, on this "
                "machine or a cluster."
            )
        photo = None if args.from_noise else load_photo(args.photo[0])
        name = "from-noise" if args.from_noise else _slug(args.photo[0].stem)
        sequence = make_keyframes(
            _keyframe_request(args, photo, args.prompt[0], (args.seed or [0])[0], args.out or keyframes_dir() / name)
        )
    print(f"{len(sequence)} keyframes in {sequence.folder}")
    print(f"contact sheet: {sequence.folder / CONTACT_SHEET}")


def _keyframe_request(
    args: argparse.Namespace, photo: Photo | None, prompt: str, seed: int, out: Path
) -> KeyframeRequest:
    """One keyframe run of the command line's options."""
    from installation.keyframes.request import DEFAULT_MODEL, KeyframeRequest

    return KeyframeRequest(
        prompt=prompt,
        out=out,
        photo=photo,
        backend=args.backend or ("diffusers" if args.model else "procedural"),
        model=args.model or DEFAULT_MODEL,
        negative_prompt=args.negative_prompt,
        guidance=args.guidance,
        scheduler=args.scheduler,
        device=args.device,
        dtype=args.dtype,
        preview_vae=args.preview_vae,
        seed=seed,
        steps=args.steps,
        strength=args.strength,
        captures=args.captures,
        capture_mode=args.capture,
        size=args.size,
        force=args.force,
        quiet=args.quiet,
    )


def _run_keyframes_on_ray(args: argparse.Namespace) -> None:
    """Every photo x prompt x seed as its own Ray task; the summary table at the end, exit 2 if
    any run failed."""
    from installation.keyframes.make import load_photo
    from installation.paths import keyframes_dir

    _check_source(args)
    _check_ray_address(args.ray)
    photos = {path.name: load_photo(path) for path in args.photo}
    sources: list[tuple[str, Photo | None]] = [(path.stem, photos[path.name]) for path in args.photo] or [
        ("noise", None)
    ]
    requests = [
        _keyframe_request(
            args, photo, prompt, seed, (args.out or keyframes_dir()) / _slug(f"{stem}-{prompt[:40]}-s{seed}")
        )
        for stem, photo in sources
        for prompt in args.prompt
        for seed in args.seed or [0]
    ]
    from installation.cluster.keyframes import make_on_ray, table

    rows = make_on_ray(requests, photos, args.ray)
    print(table(rows))
    failed = sum(row.frames is None for row in rows)
    if failed:
        raise UserError(f"{failed} of {len(rows)} keyframe runs failed; the table above says why.")


def _check_source(args: argparse.Namespace) -> None:
    if args.photo and args.from_noise:
        raise UserError(f"Both a photo ({args.photo[0]}) and --from-noise were given; drop one of them.")
    if not args.photo and not args.from_noise:
        raise UserError("No photo was given; name a photo file, or add --from-noise (or use --demo).")
    if args.prompt is None:
        raise UserError('No prompt was given; add --prompt "what the photo becomes".')


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "sequence"
