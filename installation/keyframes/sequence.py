"""The keyframe sequence on disk: ``manifest.json`` plus one PNG per frame.

This is the only module that reads or writes the format; everything else receives a
``KeyframeSequence``. Loading validates the whole folder and fails with one sentence that names
the file and the fix. Saving writes the frames first and the manifest last, atomically, so a
folder with a manifest is always complete.
"""

from __future__ import annotations

import json
import math
import os
import reprlib
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image

from installation.errors import UserError
from installation.files import write_atomically
from installation.keyframes.images import MAX_PIXELS, read_rgb

SCHEMA = 1
Item = TypeVar("Item")
Result = TypeVar("Result")
MANIFEST = "manifest.json"
CONTACT_SHEET = "contact.png"
FRAME_KINDS = ("photo", "noise", "step", "final")
CAPTURE_MODES = ("x0", "latents")
_REMAKE = "make it again with `metamorph keyframes`"
NAME_MAX = 255
"""The longest file or folder name, in bytes, that common file systems accept (ext4, APFS, NTFS)."""


class SequenceError(UserError):
    """A keyframe folder that cannot be played: the message names the file and the fix."""


@dataclass(frozen=True)
class Frame:
    """One keyframe: its file, what it shows, and where in the denoising it was captured."""

    file: str
    kind: str
    step: int | None = None
    timestep: int | None = None

    def label(self, steps_executed: int) -> str:
        """A short caption for contact sheets and on-screen displays."""
        if self.kind in ("photo", "noise"):
            return self.kind
        caption = f"step {self.step + 1}/{steps_executed}" if self.step is not None else self.kind
        return f"{caption} (final)" if self.kind == "final" else caption


@dataclass(frozen=True)
class Source:
    """The photo a sequence was made from, so that a run can be checked and repeated."""

    file: str
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """Everything needed to reproduce a sequence's frames."""

    backend: str
    model: str
    prompt: str
    negative_prompt: str
    seed: int
    strength: float
    scheduler: str
    guidance: float | None
    steps: int
    steps_executed: int
    capture_mode: str
    width: int
    height: int
    frames: tuple[Frame, ...]
    source: Source | None
    created: str
    package_version: str
    options: dict[str, Any] = field(default_factory=dict)
    schema: int = SCHEMA

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"


@dataclass
class KeyframeSequence:
    """A loaded sequence: its folder, manifest, and frames as 8-bit RGB arrays (H x W x 3)."""

    folder: Path
    manifest: Manifest
    frames: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def name(self) -> str:
        return self.folder.name


# Loading ------------------------------------------------------------------------------------

_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "backend": (str,),
    "model": (str,),
    "prompt": (str,),
    "negative_prompt": (str,),
    "seed": (int,),
    "strength": (int, float),
    "scheduler": (str,),
    "guidance": (int, float, type(None)),
    "steps": (int,),
    "steps_executed": (int,),
    "capture_mode": (str,),
    "width": (int,),
    "height": (int,),
    "frames": (list,),
    "source": (dict, type(None)),
    "created": (str,),
    "package_version": (str,),
    "options": (dict,),
    "schema": (int,),
}


def load_sequence(folder: Path) -> KeyframeSequence:
    """Load and validate the sequence in ``folder``; raise ``SequenceError`` if anything is off."""
    folder = Path(folder)
    with _unreadable_as_sentence(folder):
        if not folder.is_dir():
            raise SequenceError(f"{folder} is not a folder; give a keyframe sequence folder or {_REMAKE}.")
        manifest = read_manifest(folder)
        frames = _load_frames(folder, manifest)
    return KeyframeSequence(folder=folder, manifest=manifest, frames=frames)


def _load_frames(folder: Path, manifest: Manifest) -> list[np.ndarray]:
    """Every frame, decoded on several threads where ``threads_for`` allows (zlib lets go of the GIL
    while it inflates, which is most of a PNG's decoding); a broken frame raises as if read in order."""
    return map_frames(lambda frame: _load_frame(folder, frame, manifest), manifest.frames)


def map_frames(work: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
    """``work`` on each of ``items``, the results in order: on ``threads_for`` threads (the first
    error raised as if in order), or on this one."""
    workers = threads_for(len(items))
    if workers < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(workers, thread_name_prefix="frames") as pool:
        return list(pool.map(work, items))


def threads_for(items: int) -> int:
    """Threads to work through ``items`` frames on: one per core where the caller waits for them (the
    main thread: the player's start-up, capture), one where a show plays on while they load (the
    sequence loader's thread), so that the frames drawn meanwhile keep their cores."""
    if threading.current_thread() is not threading.main_thread():
        return 1
    return max(1, min(items, cores()))


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


@contextmanager
def _unreadable_as_sentence(folder: Path) -> Iterator[None]:
    """Any file-system error not named more precisely (a name too long, no permission, an I/O
    error) as one sentence: whatever a folder holds, loading it never ends in a traceback."""
    try:
        yield
    except OSError as error:
        raise SequenceError(
            f"{folder} cannot be read ({error.strerror or error}); check the folder or {_REMAKE}."
        ) from error


def read_manifest(folder: Path) -> Manifest:
    """Parse and check ``folder/manifest.json`` without reading any frame."""
    path = folder / MANIFEST
    with _unreadable_as_sentence(folder):
        if not path.is_file():
            raise SequenceError(f"{path} is missing, so {folder} is not a keyframe sequence; {_REMAKE}.")
        text = path.read_bytes()
    try:
        data = json.loads(text.decode("utf-8"))
    except ValueError as error:  # not UTF-8, not JSON, or an integer of thousands of digits
        raise SequenceError(f"{path} is not valid JSON ({error}); {_REMAKE}.") from error
    except RecursionError as error:
        raise SequenceError(f"{path} is nested too deeply to be a manifest; {_REMAKE}.") from error
    if not isinstance(data, dict):
        raise SequenceError(f"{path} does not hold a JSON object; {_REMAKE}.")
    _check_schema(path, data)
    _check_fields(path, data)
    frames = tuple(_parse_frame(path, index, entry) for index, entry in enumerate(data["frames"]))
    source = _parse_source(path, data["source"])
    values = {**data, "frames": frames, "source": source}
    manifest = Manifest(**{f.name: values[f.name] for f in fields(Manifest) if f.name in values})
    _check_values(path, manifest)
    return manifest


def _check_schema(path: Path, data: dict[str, Any]) -> None:
    schema = data.get("schema")
    if schema == SCHEMA:
        return
    if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA:
        raise SequenceError(
            f"{path} has schema {schema}, newer than the {SCHEMA} this metamorph reads; "
            "upgrade metamorph (pip install -U diffusive-metamorphosis)."
        )
    raise SequenceError(f"{path} has an unknown schema {reprlib.repr(schema)} (expected {SCHEMA}); {_REMAKE}.")


def _check_fields(path: Path, data: dict[str, Any]) -> None:
    for name, types in _FIELD_TYPES.items():
        if name == "options" and name not in data:
            data[name] = {}
        if name not in data:
            raise SequenceError(f"{path} lacks the field {name!r}; {_REMAKE}.")
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, types):
            raise SequenceError(f"{path} has a {name!r} of the wrong type ({reprlib.repr(value)}); {_REMAKE}.")


def _parse_frame(path: Path, index: int, entry: Any) -> Frame:
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
        raise SequenceError(f"{path} frame {index} has no file name; {_REMAKE}.")
    name = entry["file"]
    if name_bytes(name) > NAME_MAX:
        raise SequenceError(
            f"{path} frame {index} names a file of {name_bytes(name)} bytes, longer than the {NAME_MAX} a file "
            f"name can have; {_REMAKE}."
        )
    if not _is_plain_name(name):
        raise SequenceError(
            f"{path} frame {index} names {reprlib.repr(name)}, which is not a plain PNG file name inside the "
            f"folder; {_REMAKE}."
        )
    kind = entry.get("kind")
    if kind not in FRAME_KINDS:
        raise SequenceError(f"{path} frame {index} has an unknown kind {reprlib.repr(kind)}; {_REMAKE}.")
    step, timestep = entry.get("step"), entry.get("timestep")
    for label, value in (("step", step), ("timestep", timestep)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise SequenceError(f"{path} frame {index} has a {label} that is not a whole number from 0; {_REMAKE}.")
    return Frame(file=name, kind=kind, step=step, timestep=timestep)


def name_bytes(name: str) -> int:
    """The length of ``name`` as file systems count it: bytes of UTF-8, not characters."""
    return len(name.encode("utf-8", "surrogatepass"))


def _is_plain_name(name: str) -> bool:
    return (
        name not in ("", ".", "..")
        and "/" not in name
        and "\\" not in name
        and name.isprintable()  # no NUL, control character or lone surrogate
        and not name.startswith(".")
        and name.lower().endswith(".png")
    )


def _parse_source(path: Path, entry: dict[str, Any] | None) -> Source | None:
    if entry is None:
        return None
    if not isinstance(entry.get("file"), str) or not isinstance(entry.get("sha256"), str):
        raise SequenceError(f"{path} has a 'source' without file and sha256; {_REMAKE}.")
    return Source(file=entry["file"], sha256=entry["sha256"])


def _check_values(path: Path, manifest: Manifest) -> None:
    if not manifest.frames:
        raise SequenceError(f"{path} lists no frames; {_REMAKE}.")
    if manifest.width < 1 or manifest.height < 1 or manifest.width * manifest.height > MAX_PIXELS:
        raise SequenceError(
            f"{path} gives a size of {manifest.width}x{manifest.height}, outside 1x1 to "
            f"{MAX_PIXELS / 1e6:.0f} MP; {_REMAKE} with a smaller --size."
        )
    if manifest.capture_mode not in CAPTURE_MODES:
        raise SequenceError(f"{path} has an unknown capture_mode {reprlib.repr(manifest.capture_mode)}; {_REMAKE}.")
    if not 0.0 <= manifest.strength <= 1.0:  # also false for NaN
        raise SequenceError(f"{path} has a strength of {manifest.strength}, outside 0..1; {_REMAKE}.")
    if isinstance(manifest.guidance, float) and not math.isfinite(manifest.guidance):
        raise SequenceError(f"{path} has a guidance of {manifest.guidance}, not a finite number; {_REMAKE}.")
    for name, value, least in (("steps", manifest.steps, 1), ("steps_executed", manifest.steps_executed, 0)):
        if value < least:
            raise SequenceError(f"{path} has {name} {value}, below {least}; {_REMAKE}.")
    names = [frame.file for frame in manifest.frames]
    if len(set(names)) != len(names):
        raise SequenceError(f"{path} lists the same frame file twice; {_REMAKE}.")


def _load_frame(folder: Path, frame: Frame, manifest: Manifest) -> np.ndarray:
    path = folder / frame.file
    if path.is_symlink() and folder.resolve() not in path.resolve().parents:
        raise SequenceError(f"{path} is a link that leaves {folder}; copy the frame into the folder instead.")
    image = read_rgb(path, what="keyframe", fix=f"restore it or {_REMAKE}")
    if image.size != manifest.size:
        raise SequenceError(
            f"{path} is {image.size[0]}x{image.size[1]} but {folder / MANIFEST} says "
            f"{manifest.width}x{manifest.height}; every frame must have the sequence's size, {_REMAKE}."
        )
    return np.asarray(image, dtype=np.uint8)


# Saving -------------------------------------------------------------------------------------


def frame_file(index: int) -> str:
    """The file name of frame ``index``: ``000.png``, ``001.png`` ..."""
    return f"{index:03d}.png"


def prepare_output(folder: Path, force: bool) -> None:
    """Make ``folder`` ready to receive a sequence, before any long work starts.

    A folder that holds anything is refused unless ``force``; with ``force`` the old manifest
    goes first, so an interrupted overwrite never looks like a complete sequence.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"The output {folder} is a file, not a folder; choose another --out.")
    if folder.is_dir() and any(folder.iterdir()):
        if not force:
            raise UserError(
                f"The output folder {folder} is not empty; choose another --out or add --force to replace it."
            )
        _clear_sequence(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-")
        probe.close()
    except OSError as error:
        raise UserError(
            f"The output folder {folder} cannot be written ({error.strerror or error}); choose another --out."
        ) from error


def _clear_sequence(folder: Path) -> None:
    (folder / MANIFEST).unlink(missing_ok=True)
    for path in folder.glob("[0-9][0-9][0-9].png"):
        path.unlink()
    (folder / CONTACT_SHEET).unlink(missing_ok=True)


def save_sequence(
    folder: Path,
    manifest: Manifest,
    frames: list[np.ndarray],
    contact_sheet: Callable[[KeyframeSequence], Image.Image] | None = None,
) -> KeyframeSequence:
    """Write the frames, an optional contact sheet, then the manifest (atomically, last).

    A write that fails (a full disk) is one sentence; without its manifest the folder is never
    taken for a sequence.
    """
    folder = Path(folder)
    if len(frames) != len(manifest.frames):
        raise ValueError(f"{len(frames)} frames for {len(manifest.frames)} manifest entries")
    sequence = KeyframeSequence(folder=folder, manifest=manifest, frames=frames)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for frame, pixels in zip(manifest.frames, frames, strict=True):
            if pixels.shape != (manifest.height, manifest.width, 3) or pixels.dtype != np.uint8:
                raise ValueError(f"frame {frame.file} is {pixels.shape} {pixels.dtype}")
            Image.fromarray(pixels).save(folder / frame.file, optimize=False, compress_level=6)
        if contact_sheet is not None:
            contact_sheet(sequence).save(folder / CONTACT_SHEET)
        write_atomically(folder / MANIFEST, manifest.to_json())
    except OSError as error:
        raise UserError(
            f"The keyframes could not be written to {folder} ({error.strerror or error}); free disk space or "
            "choose another --out, then run again."
        ) from error
    return sequence
