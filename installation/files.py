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

import errno
import os
import stat
import tempfile
from pathlib import Path

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


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: under a temporary name only this write uses,
    synced, then renamed, so another writer of the same file or a power cut never leaves half of
    it or a mix of two."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
