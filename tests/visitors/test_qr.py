"""The visitor page's QR code, read back by a real decoder (zxing-cpp), on a card and on the display."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image

from installation.visitors.qr import page_url, qr_pixels
from tests.helpers import metamorph

URL = "http://192.168.1.20:8081/visit"


def decoded(pixels: np.ndarray) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(np.ascontiguousarray(pixels[:, :, :3]))]


def test_the_printed_card_reads_back_as_the_pages_address(tmp_path: Path) -> None:
    card = tmp_path / "card.png"
    said = metamorph("visitors", "--qr", str(card), "--visitor-url", URL)
    assert said.returncode == 0 and said.stdout.strip() == f"the QR code of {URL} is in {card}"
    assert decoded(np.asarray(Image.open(card).convert("RGB"))) == [URL]
    again = metamorph("visitors", "--qr", str(card), "--visitor-url", "http://elsewhere/visit")
    assert again.returncode == 2 and "exists; choose another --qr or add --force" in again.stderr
    assert decoded(np.asarray(Image.open(card).convert("RGB"))) == [URL]


def test_the_display_shows_the_address_phones_reach_on_this_port() -> None:
    url = page_url(8123)
    assert url.startswith("http://") and url.endswith(":8123/visit")
    assert decoded(qr_pixels(url)) == [url] and decoded(qr_pixels("ünïcödé ✓")) == ["ünïcödé ✓"]
