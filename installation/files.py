"""Every file a user names (a config, a preset, a controller map, the log) is opened here, and
the small text files the show writes for itself (a manifest, a learned map) are written here.

A path can name a FIFO, a device, a folder or a link to nothing. Opened the ordinary way, a FIFO
blocks until a writer comes, forever and without a word, and a device can stream without end.
So a file is opened without blocking (``O_NONBLOCK``: a FIFO opens at once), refused unless
``fstat`` of what was opened says it is a regular file (no race between a check and the open),
and refused past a size no such file needs; each refusal is one sentence naming the option, the
path and the fix.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image

from installation.errors import UserError

MIB = 1 << 20
_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}
_FLAGS = os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY


def read_input(path: Path, what: str, option: str, limit: int) -> bytes:
    """The bytes of the regular file ``path`` (the ``what`` of ``option``), at most ``limit`` of them."""
    with os.fdopen(open_input(path, what, option, limit), "rb") as stream:
        data = stream.read(limit + 1)  # a file that grew since fstat is still held to the limit
    if len(data) > limit:
        raise UserError(_too_large(path, what, option, len(data), limit))
    return data


def check_input(path: Path, what: str, option: str, limit: int) -> None:
    """Refuse at start-up a file that a later stage would read (the same checks as ``read_input``)."""
    os.close(open_input(path, what, option, limit))


def open_input(path: Path, what: str, option: str, limit: int) -> int:
    """A read-only descriptor of the regular file ``path`` of at most ``limit`` bytes, else one sentence."""
    try:
        descriptor = os.open(path, os.O_RDONLY | _FLAGS)
    except OSError as error:
        raise UserError(_refusal(path, what, option, error, "read")) from error
    try:
        size = _regular_size(descriptor, path, what, option)
        if size > limit:
            raise UserError(_too_large(path, what, option, size, limit))
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def open_output(path: Path, what: str, option: str) -> int:
    """An appending descriptor of ``path``, created if missing; an existing path that is not a
    regular file (a FIFO, a device, a folder) is refused, never written into."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _FLAGS, 0o644)
    except OSError as error:
        raise UserError(_refusal(path, what, option, error, "written")) from error
    try:
        _regular_size(descriptor, path, what, option)
    except BaseException:
        os.close(descriptor)
        raise
    os.set_blocking(descriptor, True)
    return descriptor


def _regular_size(descriptor: int, path: Path, what: str, option: str) -> int:
    """The size of what ``descriptor`` opened, refusing anything but a regular file."""
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        raise UserError(_not_regular(path, what, option, status.st_mode))
    return status.st_size


def _not_regular(path: Path, what: str, option: str, mode: int) -> str:
    kind = _KINDS.get(stat.S_IFMT(mode), "not a file")
    return f"The {what} {path} is {kind}, not a regular file; give {option} the path of a file."


def _refusal(path: Path, what: str, option: str, error: OSError, verb: str) -> str:
    """Why ``path`` could not be opened: what is there when it is not a file, else the system's reason."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = stat.S_IFREG
    if not stat.S_ISREG(mode):  # a folder (EISDIR), a FIFO with no reader (ENXIO) ...
        return _not_regular(path, what, option, mode)
    if error.errno == errno.ENOENT and path.is_symlink():
        reason = f"it is a link to {os.readlink(path)}, which does not exist"
    elif error.errno == errno.ENOENT and not path.parent.is_dir():
        reason = f"the folder {path.parent} does not exist"
    else:
        reason = error.strerror or str(error)
    return f"The {what} {path} cannot be {verb} ({reason}); give {option} a file that can be {verb}."


def _too_large(path: Path, what: str, option: str, size: int, limit: int) -> str:
    return (
        f"The {what} {path} is {size / MIB:.1f} MB, more than the {limit / MIB:g} MB a {what} may hold; "
        f"give {option} the {what} itself."
    )


def write_atomically(path: Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` whole or not at all: under a temporary name only
    this write uses, synced, then renamed, so another writer of the same file or a power cut never
    leaves half of it or a mix of two."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode() if isinstance(data, str) else data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# Outputs: written under a name only this run uses, renamed when whole --------------------------

PARTIAL_SUFFIX = ".partial"
_NO_HARD_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK)
"""What ``os.link`` answers on a file system without hard links (FAT, some network mounts)."""


def partial_path(path: Path) -> Path:
    """Where an interrupted run keeps its playable ``path``: the one name a user (and ``concat``)
    looks for, so a run refuses to start over it without --force."""
    return path.with_name(path.name + PARTIAL_SUFFIX)


def run_partial(path: Path) -> Path:
    """Where this run writes ``path`` until it is whole: a name no other run uses (process id and a
    random tag), beside ``path`` so the final rename is atomic. Two runs given the same output
    never write into one file, and each removes or renames only its own."""
    return path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}{PARTIAL_SUFFIX}")


@contextlib.contextmanager
def written(path: Path, replace: bool) -> Iterator[Path]:
    """This run's own partial name for ``path``: what the block writes there takes the name
    ``path`` when the block ends (``publish``), and is removed if the block raises."""
    working = run_partial(path)
    try:
        yield working
    except BaseException:
        with contextlib.suppress(OSError):  # a read-only folder answers EROFS even for a missing file
            working.unlink()
        raise
    publish(working, path, replace)


def publish(working: Path, path: Path, replace: bool) -> Path:
    """Give this run's finished ``working`` file the name ``path`` in one atomic step. A file there
    is replaced only when ``replace`` (--force): one that another run finished meanwhile is left
    alone, and this run's file stays under its own name, which the sentence gives."""
    if not _rename(working, path, replace):
        raise UserError(
            f"{path} was written by another run meanwhile and is left as it is; this run's result is kept as "
            f"{working.name}: rename it to keep it, or run again with --force to replace {path.name}."
        )
    return path


def keep_partial(working: Path, path: Path, replace: bool) -> Path:
    """Rename an interrupted run's playable ``working`` file to ``partial_path(path)``; an older
    kept partial there is replaced only when ``replace``, else this one stays under its own name.
    Return where it is."""
    kept = partial_path(path)
    return kept if _rename(working, kept, replace) else working


def _rename(source: Path, target: Path, replace: bool) -> bool:
    """Rename atomically (same folder); without ``replace``, False where ``target`` exists."""
    try:
        if replace:
            os.replace(source, target)
            return True
        return _rename_new(source, target)
    except OSError as error:
        raise UserError(
            f"The finished file {source} cannot be renamed to {target.name} ({error.strerror}); rename it by hand."
        ) from error


def _rename_new(source: Path, target: Path) -> bool:
    """Rename only onto a free name, in one step: a hard link refuses an existing name (without
    hard links, a check right before the rename)."""
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno not in _NO_HARD_LINKS:
            raise
        if os.path.lexists(target):
            return False
        os.rename(source, target)
        return True
    os.unlink(source)
    return True


def check_new_output(path: Path, option: str, replace: bool) -> None:
    """Refuse, before any work, an output that cannot be written whole: one in a folder that is
    not there, one where something that is not a file is (a FIFO, a folder, a link), or another
    run's finished file without ``replace`` (--force)."""
    if os.path.lexists(path):
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            raise UserError(f"The output {path} is a link; give {option} the path of a file, not of a link.")
        if not stat.S_ISREG(mode):
            raise UserError(_not_regular(path, "output", option, mode))
        if not replace:
            raise UserError(f"The output {path} exists; choose another {option} or add --force to replace it.")
    if not path.parent.is_dir():
        raise UserError(
            f"The folder {path.parent} of the output {path} does not exist; create it or choose another {option}."
        )


def save_picture(image: Image.Image, path: Path, replace: bool, **options: Any) -> None:
    """Save ``image`` whole or not at all (``written``), in the format its name's ending says."""
    kind = Image.registered_extensions().get(path.suffix.lower())
    if kind is None:
        raise UserError(f"{path} does not end in a picture's ending; name it e.g. {path.with_suffix('.png').name}.")
    with written(path, replace) as working:
        image.save(working, format=kind, **options)
