"""``play``'s visitor options, each declared once (``flags.flag``): the page, the queue, the studio."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installation.errors import UserError
from installation.flags import Bounds, Size, flag, zero_is_off

_VISITORS = "visitors"
DEFAULT_PORT = 8081
TURBO_MODEL = "stabilityai/sd-turbo"


def _play(name: str, help: str, default: Any = None, commands: tuple[str, ...] = ("play",), **settings: Any) -> Any:
    """A visitor option of `play` (the group "visitors"); the page's address also `metamorph visitors`'s.
    Parsed under the option's own name (``visitor_hold``), apart from play's look (``hold``)."""
    dest = name.removeprefix("--").replace("-", "_")
    return flag(name, help, default, group=_VISITORS, commands=commands, dest=dest, **settings)


@dataclass(frozen=True)
class VisitorOptions:
    """Whether visitors may wish, and how their wishes are limited and made."""

    enabled: bool = _play(
        "--visitors",
        "open a page where visitors give the picture a prompt (and, with --visitor-photos, a photo); the show "
        "glides into what the model makes of it",
        False,
        action="store_true",
    )
    port: int = _play(
        "--visitor-port",
        "the visitor page's own port: /visit and nothing else, for a public network (default %(default)s)",
        DEFAULT_PORT,
        type=Bounds(1, 65535, DEFAULT_PORT, whole=True),
        metavar="PORT",
        commands=("play", "visitors"),
    )
    url: str | None = _play(
        "--visitor-url",
        "the page's address as phones reach it, in the QR code (default http://THIS-MACHINE:PORT/visit)",
        metavar="URL",
        commands=("play", "visitors"),
    )
    photos: bool = _play("--visitor-photos", "visitors may also send a photo to start from", False, action="store_true")
    backend: str = _play(
        "--visitor-backend",
        "what makes a wish's keyframes (default %(default)s; diffusers needs --visitor-model)",
        "procedural",
        choices=["procedural", "diffusers"],
    )
    model: str | None = _play(
        "--visitor-model", f"the diffusers model, a hub id or a folder (e.g. {TURBO_MODEL})", metavar="ID_OR_FOLDER"
    )
    steps: int = _play(
        "--visitor-steps",
        "denoising steps of a wish (default %(default)s; 4 for a turbo model)",
        20,
        type=Bounds(1, 1000, 20, whole=True),
    )
    captures: int = _play(
        "--visitor-captures",
        "keyframes captured of a wish's steps (default %(default)s)",
        8,
        type=Bounds(1, 1000, 8, whole=True),
    )
    strength: float = _play(
        "--visitor-strength",
        "how far the picture on screen (or the photo) is changed, 0..1 (default %(default)g)",
        0.75,
        type=Bounds(0.01, 1.0, 0.75),
    )
    guidance: float = _play(
        "--visitor-guidance",
        "classifier-free guidance of a wish, 0..30 (default %(default)g; 0 for a turbo model)",
        7.5,
        type=Bounds(0.0, 30.0, 7.5),
    )
    size: tuple[int, int] = _play(
        "--visitor-size", "a wish's keyframe size WxH (default 768x432)", (768, 432), type=Size(16, 4096, (768, 432))
    )
    ray: str | None = _play(
        "--visitor-ray",
        "make wishes on the Ray cluster at ADDRESS (where the GPU is: host:port or ray://host:10001)",
        metavar="ADDRESS",
    )
    hold: float = _play(
        "--visitor-hold",
        "how long a wish's sequence plays before the playlist goes on (default %(default)g)",
        120.0,
        type=Bounds(5.0, 86_400.0, 120.0),
        metavar="SECONDS",
    )
    every: float = _play(
        "--visitor-every",
        "one wish per visitor (cookie and address) this often (default %(default)g)",
        10.0,
        type=Bounds(0.0, 1440.0, 10.0),
        metavar="MINUTES",
    )
    queue: int = _play(
        "--visitor-queue",
        "wishes waiting at most; more are told to come back later (default %(default)s)",
        5,
        type=Bounds(1, 100, 5, whole=True),
    )
    blocklist: Path | None = _play(
        "--visitor-blocklist", "a word list file: a prompt with one of its words is refused", type=Path, metavar="FILE"
    )
    approve: bool = _play(
        "--visitor-approve",
        "wishes wait on the control page for the operator's tap (also /visitors/approve)",
        False,
        action="store_true",
    )
    timeout: float = _play(
        "--visitor-timeout",
        "a wish that takes longer is stopped and said to have failed (default %(default)g)",
        300.0,
        type=Bounds(5.0, 86_400.0, 300.0),
        metavar="SECONDS",
    )
    keep: bool = _play(
        "--visitor-keep",
        "keep visitors' photos after their wish is made (default: deleted)",
        False,
        action="store_true",
    )
    keep_last: int | None = _play(
        "--visitor-keep-last",
        "made sequences kept; the oldest are deleted (default %(default)s; 0: keep all)",
        50,
        convert=zero_is_off,
        type=Bounds(0, 100_000, 50, whole=True, off=0),
        metavar="N",
    )
    folder: Path | None = _play(
        "--visitor-folder", "where wishes' sequences are kept (default: KEYFRAMES/visitors)", type=Path, metavar="DIR"
    )

    def __post_init__(self) -> None:
        """What would make every wish fail, refused before the show starts (command line or config)."""
        if self.backend == "diffusers" and self.model is None:
            raise UserError(f"--visitor-backend diffusers needs a model: add --visitor-model (e.g. {TURBO_MODEL}).")
        width, height = self.size
        if self.backend == "diffusers" and (width % 8 or height % 8):
            fitted = f"{width - width % 8}x{height - height % 8}"
            raise UserError(
                f"--visitor-size {width}x{height} is not a multiple of 8, which diffusion models need; use --visitor-size {fitted}."
            )
        if self.backend == "procedural" and self.captures > int(self.steps * self.strength):
            raise UserError(
                f"--visitor-captures {self.captures} is more than the {int(self.steps * self.strength)} steps a wish runs "
                "(--visitor-steps x --visitor-strength); lower --visitor-captures or raise --visitor-steps."
            )
