"""The visitor page over real HTTP, as hostile strangers would use it, against the real visitors'
process (started by the show's ``VisitorLink``, on loopback; each visitor from its own 127.0.0.N)."""

from __future__ import annotations

import io
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from installation.scene.clock import FixedClock
from installation.scene.commands import VISITOR_REQUESTS, Command
from installation.scene.pipeline import FramePipeline
from installation.scene.show import Show
from installation.scene.stage import load_stage
from installation.scene.transport import Transport
from installation.visitors.messages import VisitorSettings
from installation.visitors.show import VisitorLink
from installation.visitors.studio import Recipe
from tests.helpers import huge_png_bytes, wait_for
from tests.visitors.visitor import Visitor, multipart, raw_request

QUEUE = 3


@contextmanager
def visitor_page(sequence: Path, folder: Path, **settings: Any) -> Iterator[VisitorLink]:
    """The visitors' process of a show playing ``sequence``, its wishes made into ``folder``."""
    pipeline = FramePipeline(Show(load_stage(sequence, 8, Transport.COLOR)), FixedClock(60.0))
    pipeline.step()
    recipe = Recipe(steps=10, captures=3, size=(64, 36), timeout=120.0)
    made = VisitorLink(
        lambda: pipeline.latest,
        VisitorSettings(folder, recipe, url="http://x/visit", **settings),
        port=0,
        host="127.0.0.1",
    )
    try:
        wait_for(lambda: Visitor(made.port, "127.0.0.250").request("GET", "/visit")[0] == 200, 30, "the visitor page")
        yield made
    finally:
        made.close()


@pytest.fixture(scope="module")
def link(sequence_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VisitorLink]:
    """Wishes wait for the operator (so the queue holds still), one per visitor each 10 minutes."""
    folder = tmp_path_factory.mktemp("visitors")
    with visitor_page(sequence_folder, folder, every=600.0, queue=QUEUE, approve=True, photos=True) as made:
        yield made


def photo(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), 120, np.uint8)).save(out, "JPEG")
    return out.getvalue()


def files_under(folder: Path) -> set[Path]:
    return {Path(root) / name for root, _, names in os.walk(folder) for name in names}


def test_only_the_visit_page_is_served_on_this_port(link: VisitorLink) -> None:
    visitor = Visitor(link.port, "127.0.0.3")
    assert b"Send the wish" in visitor.open_page()
    for path in ("/", "/control", "/control/config.json", "/?HOST_INFO", "/speed?VALUE", "/visit/../control"):
        assert visitor.request("GET", path)[0] == 404, path
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"}
    assert visitor.request("GET", "/", **upgrade | {"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})[0] == 404
    assert visitor.request("POST", "/speed", b"\x00" * 16)[0] in (404, 405)


@pytest.fixture
def empty_queue(link: VisitorLink) -> VisitorLink:
    """No wish waiting (the operator cleared the queue), whatever the tests before left."""
    taken = wait_for(lambda: link.report.get("operator_commands", -1) + 1, 10, "the first report") - 1
    VISITOR_REQUESTS.post(Command("visitors/clear", (True,)))
    wait_for(lambda: link.report["operator_commands"] > taken and link.report["wishes"] == [], 10, "the queue cleared")
    return link


def test_a_wish_waits_for_its_place_and_the_operator_then_becomes_a_sequence(empty_queue: VisitorLink) -> None:
    link = empty_queue
    visitor = Visitor(link.port, "127.0.0.4")
    visitor.open_page()
    status, told = visitor.wish("a flooded cathedral at dawn")
    assert status == 200 and (told["state"], told["place"]) == ("approval", 1)
    assert visitor.request("GET", f"/visit/wish/{told['token']}")[1]["words"] == "waiting for the operator"
    VISITOR_REQUESTS.post(Command("visitors/accept", (told["number"],)))
    ready = wait_for(lambda: next((r for r in list(link.ready) if r.number == told["number"]), None), 120, "the wish")
    assert ready.prompt == "a flooded cathedral at dawn" and ready.sequence.parent == link.folder
    state = visitor.request("GET", f"/visit/wish/{told['token']}")[1]
    assert state["state"] == "ready" and state["place"] == 0
    status, sheet = visitor.request("GET", state["contact_sheet"])
    assert status == 200 and Image.open(io.BytesIO(sheet)).width > 64
    manifest = (ready.sequence / "manifest.json").read_text()
    assert '"prompt": "a flooded cathedral at dawn"' in manifest and '"created"' in manifest
    assert not list(link.folder.glob(".making-*"))


def test_a_thousand_wishes_from_one_address_make_one(empty_queue: VisitorLink) -> None:
    visitors = [Visitor(empty_queue.port, "127.0.0.5", cookie=f"visitor-cookie-{n:08d}") for n in range(1000)]
    statuses = [visitor.wish(f"wish number {n}")[0] for n, visitor in enumerate(visitors)]
    assert statuses.count(200) == 1 and statuses.count(429) == 999
    assert visitors[1].said[0] == "One wish each 10 minutes; try again in 10 minutes."


@pytest.mark.parametrize(
    ("address", "prompt", "photo_data", "words"),
    [
        ("127.0.1.1", "x" * 10_240, None, "The wish is over 4096 bytes long; keep it under 200 characters."),
        ("127.0.1.2", "y" * 300, None, "The wish is 300 characters long; keep it under 200."),
        (
            "127.0.1.3",
            "a cat\x00\x07\x1b[31m",
            None,
            "The wish holds characters that cannot be shown; write plain text.",
        ),
        ("127.0.1.4", b"\xff\xfe not utf-8", None, "The wish is not readable text; write it again."),
        ("127.0.1.5", "the alps", b"\xff" * (40 * 2**20), "The photo is too large; send one under 12 MB."),
        (
            "127.0.1.6",
            "the alps",
            huge_png_bytes(20_000, 20_000),
            "The photo has far too many pixels; send one of at most 33 megapixels.",
        ),
        (
            "127.0.1.7",
            "the alps",
            b"#!/bin/sh\nrm -rf /\n",
            "That file is not a photo we can read; send a JPEG, PNG or WebP picture.",
        ),
    ],
)
def test_hostile_wishes_are_refused_in_one_sentence_and_leave_nothing(
    empty_queue: VisitorLink, address: str, prompt: str | bytes, photo_data: bytes | None, words: str
) -> None:
    before = files_under(empty_queue.folder)
    visitor = Visitor(empty_queue.port, address)
    visitor.open_page()
    assert visitor.wish(prompt, photo_data) == (400, {"error": words})
    assert files_under(empty_queue.folder) == before
    assert visitor.wish("the alps")[0] == 200  # the refused wish did not count against the visitor


def test_a_wish_without_the_pages_cookie_is_refused(link: VisitorLink) -> None:
    visitor = Visitor(link.port, "127.0.0.6")
    status, told = visitor.wish("no cookie")
    assert (status, told["error"]) == (
        400,
        "Your browser sent no cookie; open the page again and send the wish from there.",
    )
    visitor.cookie = "../../etc/passwd"
    assert visitor.wish("a forged cookie")[0] == 400


def test_a_truncated_body_is_refused_and_the_next_wish_is_taken(empty_queue: VisitorLink) -> None:
    visitor = Visitor(empty_queue.port, "127.0.0.7")
    visitor.open_page()
    body, kind = multipart({"prompt": (None, b"the sea"), "photo": ("p.jpg", photo())})
    cut = body[: len(body) // 2]
    head = (
        f"POST /visit/wish HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\nContent-Length: {len(cut)}\r\n"
        f"Cookie: metamorph-visitor={visitor.cookie}\r\nConnection: close\r\n\r\n"
    ).encode()
    answer = raw_request(empty_queue.port, head, cut, "127.0.0.7")
    assert answer.startswith(b"HTTP/1.1 400") and b"The wish arrived cut short or garbled; send it again." in answer
    assert visitor.wish("the sea")[0] == 200


def test_the_queue_is_full_past_its_size(empty_queue: VisitorLink) -> None:
    statuses = []
    for number in range(1, QUEUE + 2):
        visitor = Visitor(empty_queue.port, f"127.0.3.{number}")
        visitor.open_page()
        statuses.append(visitor.wish(f"wish {number}")[0])
    assert statuses == [200] * QUEUE + [429]
    assert visitor.said == ["The queue is full; try again in 1 minute."]
    assert wait_for(lambda: len(empty_queue.report.get("wishes", [])) == QUEUE, 10, "the queue's report")


@pytest.mark.slow
def test_a_slow_client_is_cut_off_and_said_so(empty_queue: VisitorLink) -> None:
    visitor = Visitor(empty_queue.port, "127.0.0.8")
    visitor.open_page()
    body, kind = multipart({"prompt": (None, b"slowly, slowly")})
    head = (
        f"POST /visit/wish HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
        f"Cookie: metamorph-visitor={visitor.cookie}\r\nConnection: close\r\n\r\n"
    ).encode()
    answer = raw_request(empty_queue.port, head, body, "127.0.0.8", pause=1.0)
    assert answer.startswith(b"HTTP/1.1 408") and b"took longer than 20 s to arrive" in answer


def test_bodies_that_never_come_do_not_hold_the_page_from_others(empty_queue: VisitorLink) -> None:
    """A neighbour opens wishes and never sends their bodies: past two at once its address is
    refused, and everyone else's wishes are still read."""
    visitor = Visitor(empty_queue.port, "127.0.0.10")
    visitor.open_page()
    head = (
        "POST /visit/wish HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: 9999\r\nCookie: metamorph-visitor={visitor.cookie}\r\n\r\n"
    ).encode()
    held = [
        socket.create_connection(("127.0.0.1", empty_queue.port), source_address=("127.0.0.10", 0)) for _ in range(40)
    ]
    try:
        for connection in held:
            connection.sendall(head)
        assert wait_for(lambda: visitor.wish("me too")[0] == 429, 10, "the neighbour refused")
        assert visitor.said[-1] == "A wish from here is still arriving; wait for its answer before sending another."
        other = Visitor(empty_queue.port, "127.0.0.11")
        other.open_page()
        status, told = other.wish("a quiet garden")
        assert status == 200 and told["place"] == 1
    finally:
        for connection in held:
            connection.close()


def test_a_visitors_photo_is_made_into_the_wish_and_not_kept(empty_queue: VisitorLink) -> None:
    visitor = Visitor(empty_queue.port, "127.0.0.12")
    visitor.open_page()
    status, told = visitor.wish("the same, at night", photo(96, 64))
    assert status == 200
    photos = empty_queue.folder / ".photos"
    assert len(list(photos.iterdir())) == 1  # decoded, kept until the wish is made
    VISITOR_REQUESTS.post(Command("visitors/accept", (told["number"],)))
    ready = wait_for(lambda: next((r for r in list(empty_queue.ready) if r.number == told["number"]), None), 120, "it")
    assert (ready.sequence / "manifest.json").is_file()
    assert wait_for(lambda: not list(photos.iterdir()), 10, "the photo deleted")


def test_with_visitor_keep_the_photo_stays_after_its_wish(sequence_folder: Path, tmp_path: Path) -> None:
    with visitor_page(sequence_folder, tmp_path, every=0.0, queue=3, photos=True, keep_photos=True) as page:
        visitor = Visitor(page.port, "127.0.0.13")
        visitor.open_page()
        status, told = visitor.wish("kept", photo(96, 64))
        assert status == 200
        wait_for(lambda: any(r.number == told["number"] for r in list(page.ready)), 120, "the wish made")
        assert [Image.open(kept).size for kept in (tmp_path / ".photos").iterdir()] == [(96, 64)]
