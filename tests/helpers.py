"""Small builders of test inputs that several test modules need."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def huge_png(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width`` x ``height``: enough to test the size guard, 100 bytes on disk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path
