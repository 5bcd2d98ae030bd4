"""``metamorph keyframes``: a photo and a prompt (or noise) into a keyframe sequence, here or on Ray."""

from __future__ import annotations

import argparse
import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from installation.cli.common import add_ray, check_ray_address
from installation.errors import UserError

if TYPE_CHECKING:
    from installation.keyframes.request import KeyframeRequest, Photo

_EXAMPLES = """\
examples:
  metamorph keyframes --demo
      rebuild the built-in demo (a drawn alpine scene) in keyframes/demo
  metamorph keyframes photo.jpg --prompt "Artistic wavy version with subtle pink and violet tones"
      photo + prompt -> keyframes/photo/ (16 frames, manifest.json, contact.png)
  metamorph keyframes --from-noise --prompt "Swiss Matterhorn in a cubist artwork style" --out keyframes/cubist
      text-to-image: the sequence starts from pure noise
"""


def add(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
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
    add_ray(command, "one task per photo x prompt x seed, one GPU each where the cluster has GPUs")
    command.set_defaults(run=_run_keyframes)


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
    check_ray_address(args.ray)
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
