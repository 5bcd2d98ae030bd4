"""The visitor page's address and its QR code, for the on-screen display and a printed card."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path

import numpy as np
import segno

from installation.errors import UserError
from installation.files import check_new_output, written

QR_SUFFIXES = (".png", ".svg", ".pdf", ".eps")


def page_url(port: int, given: str | None = None) -> str:
    """``given``, or the page on this machine's address on its local network (what a phone on the
    same Wi-Fi reaches)."""
    return given or f"http://{local_address()}:{port}/visit"


def local_address() -> str:
    """The address this machine's outgoing route uses (no packet is sent); loopback without a network."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routed like any address, never reached
        return str(probe.getsockname()[0])
    return "127.0.0.1"


def qr_code(url: str) -> segno.QRCode:
    """The QR code of ``url`` (a quarter of it may be hidden and it still reads); an address too long
    for any QR code is one sentence."""
    try:
        return segno.make(url, error="m")
    except segno.DataOverflowError:
        raise UserError(
            f"The visitor page's address is {len(url)} characters, more than a QR code holds; give --visitor-url "
            "a short address, e.g. http://192.168.1.20:8081/visit."
        ) from None


def write_qr(url: str, path: Path, replace: bool = False) -> None:
    """A QR code of ``url`` for a printed card, in the format the file's suffix names, written
    whole or not at all (another run's card is replaced only when ``replace``: --force)."""
    if path.suffix.lower() not in QR_SUFFIXES:
        raise UserError(f"{path} is not a QR code file this can write; end its name in {', '.join(QR_SUFFIXES)}.")
    check_new_output(path, "--qr", replace)
    with written(path, replace) as working:
        qr_code(url).save(str(working), kind=path.suffix.lower()[1:], scale=10, border=4)


def qr_pixels(url: str, scale: int = 4) -> np.ndarray:
    """The QR code of ``url`` as RGBA pixels (dark on white, with its quiet zone), ``scale`` pixels a module."""
    matrix = np.array(list(qr_code(url).matrix_iter(scale=scale, border=4)), dtype=bool)
    grey = np.where(matrix, 0, 255).astype(np.uint8)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])
