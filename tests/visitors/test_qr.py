"""The visitor page's QR code, read back by a real decoder (zxing-cpp), on a card and on the display."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image

from installation.visitors.qr import page_url, qr_pixels
from tests.helpers import QUIET_PLAY, metamorph

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


def test_an_address_no_qr_code_holds_and_a_file_it_cannot_write_are_one_sentence(tmp_path: Path) -> None:
    long = "http://" + "a" * 5000 + "/visit"
    said = metamorph("visitors", "--qr", str(tmp_path / "card.png"), "--visitor-url", long)
    assert said.returncode == 2 and "Traceback" not in said.stderr
    assert said.stderr.strip() == (
        f"metamorph: error: The visitor page's address is {len(long)} characters, more than a QR code holds; "
        "give --visitor-url a short address, e.g. http://192.168.1.20:8081/visit."
    )
    said = metamorph("visitors", "--qr", str(tmp_path / "card.txt"))
    assert said.returncode == 2 and said.stderr.strip().endswith("end its name in .png, .svg, .pdf, .eps.")
    assert list(tmp_path.iterdir()) == []


def test_play_refuses_such_an_address_before_the_show(sequence_folder: Path) -> None:
    long = "http://" + "ü" * 3000 + "/visit"
    said = metamorph("play", str(sequence_folder), *QUIET_PLAY, "--frames", "1", "--visitors", "--visitor-url", long)
    assert said.returncode == 2 and "Traceback" not in said.stderr
    assert "more than a QR code holds; give --visitor-url a short address" in said.stderr
