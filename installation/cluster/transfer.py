"""Files between the driver and the nodes: a shared path when the node sees it, else copies.

Inputs (the keyframe folder, the music) travel once through Ray's object store; a node uses the
driver's path when it holds the same bytes (a shared file system) and a node-local copy
otherwise. Outputs are written in place when the node sees the driver's output folder (the
driver leaves a marker file there to find out), else gathered to the driver as bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from installation.errors import UserError
from installation.files import written
from installation.keyframes.sequence import MANIFEST
from installation.options import CaptureOptions

CACHE = "metamorph-ray"
"""Folder in the node's temporary directory that holds copies of inputs, one per content hash."""


@dataclass(frozen=True)
class Inputs:
    """What a chunk reads from the driver's disk: the keyframe folder's files and the music."""

    sequence: Path
    sequence_files: dict[str, bytes]
    audio: Path | None
    audio_bytes: bytes | None


def pack_inputs(options: CaptureOptions) -> Inputs:
    """Read the inputs of ``options``, whose sequence is a folder (the demo named by its path)."""
    assert options.show.sequence is not None
    folder = options.show.sequence
    files = {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}
    audio = options.audio.read_bytes() if options.audio else None
    return Inputs(folder, files, options.audio, audio)


def local_options(options: CaptureOptions, inputs: Inputs) -> CaptureOptions:
    """``options`` with input paths this node can read: the driver's own where they hold the same
    bytes, else copies in the node's temporary folder."""
    sequence = inputs.sequence
    if _read(sequence / MANIFEST) != inputs.sequence_files.get(MANIFEST):
        sequence = _materialise(inputs.sequence_files, sequence.name)
    audio = inputs.audio
    if audio is not None and inputs.audio_bytes is not None and _read(audio) != inputs.audio_bytes:
        audio = _materialise({audio.name: inputs.audio_bytes}, "audio") / audio.name
    return replace(options, show=replace(options.show, sequence=sequence), audio=audio)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _materialise(files: dict[str, bytes], name: str) -> Path:
    """A node-local folder ``name`` holding ``files``, written once per content and renamed into
    place whole, so concurrent tasks on one node never see it half-written."""
    digest = hashlib.sha256()
    for file, data in sorted(files.items()):
        digest.update(file.encode() + b"\0" + hashlib.sha256(data).digest())
    home = Path(tempfile.gettempdir()) / CACHE / digest.hexdigest()[:24]
    if not home.is_dir():
        home.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=home.parent))
        write_files(files, scratch / name)
        try:
            os.rename(scratch, home)
        except OSError:  # another task on this node finished the same copy first
            shutil.rmtree(scratch, ignore_errors=True)
    return home / name


def new_marker(folder: Path) -> Path:
    """Create a marker file in ``folder``: a node that sees it writes its outputs there."""
    marker = folder / f".metamorph-ray-{uuid.uuid4().hex}"
    try:
        marker.touch()
    except OSError as error:
        raise UserError(
            f"The output folder {folder} cannot be written ({error.strerror}); choose another --out."
        ) from error
    return marker


def read_files(folder: Path) -> dict[str, bytes]:
    """The plain files of ``folder`` by name: what a node without the shared path sends back."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def write_files(files: dict[str, bytes], folder: Path, last: str | None = None) -> None:
    """Write ``files`` into ``folder``, each under this run's own partial name then renamed
    (``written``), ``last`` after all others (a sequence's manifest, whose presence says the
    folder is complete)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in sorted(files, key=lambda name: name == last):
        with written(folder / name, replace=True) as working:
            working.write_bytes(files[name])
