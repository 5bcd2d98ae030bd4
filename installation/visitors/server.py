"""The visitors' process: the page on its own port, the desk (the queue) and the studio (aiohttp).

Started by ``visitors.show.VisitorLink`` as ``python -m installation.visitors.server LINK
SOCKET``. This port answers ``/visit`` and what the page needs, nothing else: no control page, no
OSCQuery, no websocket, so a gallery can put it alone on its public network. It runs at a lower
priority than the show (``nice``), and so do its workers, so decoding photos and making wishes
take what the show leaves. Every request is a stranger's: bodies are capped and must arrive
within BODY_SECONDS, an address sends two at a time and everyone ARRIVING, the desk checks a wish
before its photo is decoded (two at a time), and a refusal is one sentence in JSON (``{"error":
...}``) with a fitting status.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import resource
import secrets
import socket
import sys
import time
from collections import Counter
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from installation.control.webserver import Link, ServerLog, run_linked
from installation.keyframes.sequence import CONTACT_SHEET
from installation.visitors.desk import MAX_PROMPT, Desk, Refused, State, Wish, daily_line
from installation.visitors.messages import Operator, Queue, Ready, Showing, VisitorSettings
from installation.visitors.photos import MAX_BYTES, save_photo
from installation.visitors.studio import Failed, Studio

log = logging.getLogger("installation.visitors")
COOKIE = "metamorph-visitor"
BODY_SECONDS = 20.0
"""How long a wish's body may take to arrive (a phone on a weak network sends 12 MB in less)."""
ARRIVING = 32
"""Wishes read at once (each body at most 12 MB); more are told to try again in a moment."""
PER_ADDRESS = 2
"""Wishes one address may send at once: bodies that never come cannot hold the page from others."""
DECODING = 2
"""Photos decoded at once (a core each); the others wait their turn."""
MAX_FIELD = 4096
"""The largest prompt field read, in bytes: longer is refused by its length without being kept."""
REPORT_SECONDS = 0.5
NICENESS = 19
"""The lowest priority, for this process and its workers: on a machine whose cores the show fills
(a software renderer), strangers' requests and wishes take what is left (benchmarks/visitors.py)."""
PAGE = {
    "": ("visit.html", "text/html"),
    "visit.js": ("visit.js", "text/javascript"),
    "visit.css": ("visit.css", "text/css"),
}
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob:",
    "Referrer-Policy": "no-referrer",
}
_VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


def refusal(message: str, status: int) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=HEADERS)


class VisitorServer:
    """The page, the desk and the studio, in one asyncio loop."""

    def __init__(self, settings: VisitorSettings, link: Link) -> None:
        self.settings = settings
        self._link = link
        self.desk = Desk(settings.every, settings.queue, settings.approve, settings.blocked)
        self.studio = Studio(settings.folder, settings.recipe, settings.keep_last)
        self._photos = settings.folder / ".photos"
        self._photos.mkdir(exist_ok=True)
        self._source: Path | None = None
        """The keyframe on screen now (the show says it)."""
        self._wake = asyncio.Event()
        self._arriving: Counter[str] = Counter()
        """Wishes being read, by address."""
        self._decoding = asyncio.Semaphore(DECODING)
        self._ready: list[Ready] = []
        self._operated = 0
        """The operator's commands taken (the report says it, so the operator sees a tap arrive)."""
        self._reported: dict[str, Any] | None = None
        self._day = date.today()
        self._page = {
            route: ((resources.files("installation.visitors") / "page" / name).read_bytes(), kind)
            for route, (name, kind) in PAGE.items()
        }
        self.noise: Counter[str] = Counter()
        """Malformed requests and clients gone mid-answer: the network's noise, not wishes."""
        self.ended = asyncio.Event()

    async def serve(self, listener: socket.socket) -> None:
        """Serve on ``listener`` until the link closes."""
        app = web.Application(client_max_size=MAX_BYTES + 64 * 1024)
        app.router.add_get("/visit", self._page_file)
        app.router.add_get("/visit/", self._page_file)
        app.router.add_get("/visit/config.json", self._config)
        app.router.add_post("/visit/wish", self._wish)
        app.router.add_get("/visit/wish/{token}", self._wish_state)
        app.router.add_get("/visit/wish/{token}/contact.png", self._contact_sheet)
        app.router.add_get("/visit/{name}", self._page_file)
        runner = web.AppRunner(
            app, access_log=None, keepalive_timeout=10, max_line_size=4096, logger=ServerLog(self.noise)
        )
        await runner.setup()
        await web.SockSite(runner, listener).start()
        loop = asyncio.get_running_loop()
        loop.add_reader(self._link.connection.fileno(), self._link.receive, self._heard, self.ended)
        chores = [asyncio.ensure_future(self._make_wishes()), asyncio.ensure_future(self._report())]
        try:
            await self.ended.wait()
        finally:
            for chore in chores:
                chore.cancel()
            await asyncio.wait(chores, timeout=5.0)  # a worker is killed, its folder removed
            loop.remove_reader(self._link.connection.fileno())
            await runner.cleanup()
            log.info("visitors: %s", daily_line(self.desk.counts))

    # The link ---------------------------------------------------------------------------------

    def _heard(self, message: object) -> None:
        """What the show says: the keyframe on screen, and the operator's commands."""
        if isinstance(message, Showing):
            self._source = message.keyframe
        elif isinstance(message, Operator):
            self._operate(message.command.name.removeprefix("visitors/"), message.command.args)

    def _operate(self, action: str, args: tuple[Any, ...]) -> None:
        desk = self.desk
        if action == "pause":
            desk.paused = not desk.paused if args[0] is None else bool(args[0])
        elif action == "approve":
            desk.approve = not desk.approve if args[0] is None else bool(args[0])
        elif action == "clear" and args[0]:
            log.info("visitors: the operator cleared %d waiting wishes", desk.clear())
        elif action == "accept":
            desk.accept(args[0])
        elif action == "refuse":
            desk.refuse(args[0])
        elif action == "delete":
            self.studio.delete(args[0])
        self._operated += 1
        self._wake.set()

    async def _report(self) -> None:
        """Tell the show the desk when it changed, and the wishes made; the day's figures at midnight."""
        while True:
            await asyncio.sleep(REPORT_SECONDS)
            while self._ready and self._link.offer(self._ready[0]):
                self._ready.pop(0)
            report = self.report()
            if report != self._reported and self._link.offer(Queue(report)):
                self._reported = report
            if date.today() != self._day:
                log.info("visitors: %s: %s", self._day.isoformat(), daily_line(self.desk.counts))
                self._day = date.today()
                self.desk.counts.clear()

    def report(self) -> dict[str, Any]:
        """What the operator sees of the visitors: the queue with its prompts, the made sequences."""
        desk = self.desk
        wishes = [
            {
                "number": wish.number,
                "prompt": wish.prompt,
                "state": wish.state.name.lower(),
                "photo": wish.photo is not None,
            }
            for wish in desk.wishes()
            if wish.state in (State.APPROVAL, State.QUEUED, State.MAKING)
        ]
        made = [path.name for path in self.studio.made()[-20:]]
        return {
            "url": self.settings.url,
            "paused": desk.paused,
            "approve": desk.approve,
            "wishes": wishes,
            "made": made,
            "counts": dict(sorted(desk.counts.items())),
            "operator_commands": self._operated,
        }

    # The studio -------------------------------------------------------------------------------

    async def _make_wishes(self) -> None:
        while True:
            wish = self.desk.next_wish()
            if wish is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._make(wish)

    async def _make(self, wish: Wish) -> None:
        source = wish.photo or self._source
        start = time.monotonic()
        try:
            if source is None:
                raise Failed("The show has no picture to start from yet; try again in a moment.", "source")
            sequence = await self.studio.make(wish, source)
        except Failed as failure:
            self.desk.failed(wish, str(failure), failure.reason)
            log.info("visitors: wish %d failed (%s)", wish.number, failure.reason)
        else:
            self.desk.made(wish, sequence, time.monotonic() - start)
            self._ready.append(Ready(sequence, wish.number, wish.prompt))
            log.info("visitors: wish %d made in %.1f s: %s", wish.number, time.monotonic() - start, sequence.name)
        finally:
            if wish.photo is not None and not self.settings.keep_photos:
                wish.photo.unlink(missing_ok=True)

    # HTTP -------------------------------------------------------------------------------------

    async def _page_file(self, request: web.Request) -> web.Response:
        found = self._page.get(request.match_info.get("name", ""))
        if found is None:
            return web.Response(status=404, text="no such page\n")
        body, kind = found
        response = web.Response(body=body, content_type=kind, headers=HEADERS)
        if kind == "text/html" and not _visitor(request):
            response.set_cookie(COOKIE, secrets.token_urlsafe(18), max_age=86_400, httponly=True, samesite="Strict")
        return response

    async def _config(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"photos": self.settings.photos, "max_prompt": MAX_PROMPT, "max_photo_mb": MAX_BYTES // 2**20},
            headers=HEADERS,
        )

    async def _wish(self, request: web.Request) -> web.Response:
        """A wish: the prompt, and a photo where photos are taken (multipart form data)."""
        visitor = _visitor(request)
        if visitor is None:
            return refusal("Your browser sent no cookie; open the page again and send the wish from there.", 400)
        address = request.remote or ""
        if self._arriving[address] >= PER_ADDRESS:
            return refusal("A wish from here is still arriving; wait for its answer before sending another.", 429)
        if sum(self._arriving.values()) >= ARRIVING:
            return refusal("Many wishes are arriving at once; send yours again in a moment.", 503)
        self._arriving[address] += 1
        try:
            wish = await self._take(request, visitor, address)
        except Refused as refused:
            self.desk.counts[f"refused: {refused.reason}"] += 1
            status = 429 if refused.reason in ("rate", "full") else 503 if refused.reason == "paused" else 400
            return refusal(str(refused), status)
        except TimeoutError:
            self.desk.counts["refused: slow"] += 1
            return refusal(f"The wish took longer than {BODY_SECONDS:g} s to arrive; send it again.", 408)
        finally:
            self._arriving[address] -= 1
            if not self._arriving[address]:
                del self._arriving[address]
        self._wake.set()
        return web.json_response(self._told(wish), headers=HEADERS)

    async def _take(self, request: web.Request, visitor: str, address: str) -> Wish:
        """Read the wish, check it with the desk before its photo is decoded (a few at a time), take it."""
        prompt, photo = await asyncio.wait_for(self._form(request), BODY_SECONDS)
        self.desk.check(visitor, address, prompt)
        if photo is None:
            return self.desk.submit(visitor, address, prompt)
        async with self._decoding:
            saved = await self._save_photo(photo)
        return self.desk.submit(visitor, address, prompt, saved)

    async def _form(self, request: web.Request) -> tuple[str, bytes | None]:
        """The prompt and the photo's bytes, each read within its cap; a body cut short is refused."""
        prompt, photo = "", None
        try:
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "prompt":
                    prompt = await _read_text(part)
                elif part.name == "photo" and part.filename:
                    data = await part.read()
                    photo = data or None
        except web.HTTPRequestEntityTooLarge:
            raise Refused(f"The photo is too large; send one under {MAX_BYTES // 2**20} MB.", "photo") from None
        except (ValueError, AssertionError, AttributeError, KeyError, ConnectionError) as error:
            log.debug("visitors: a wish's body could not be read (%s)", error)
            raise Refused("The wish arrived cut short or garbled; send it again.", "garbled") from None
        if photo is not None and not self.settings.photos:
            raise Refused("This show takes words only; send the wish without a photo.", "photo")
        return prompt, photo

    async def _save_photo(self, data: bytes) -> Path:
        path = self._photos / f"{secrets.token_hex(8)}.png"
        await asyncio.get_running_loop().run_in_executor(None, save_photo, data, path)
        return path

    async def _wish_state(self, request: web.Request) -> web.Response:
        wish = self.desk.find(request.match_info["token"])
        if wish is None:
            return refusal("No such wish; it may be from long ago.", 404)
        return web.json_response(self._told(wish), headers=HEADERS)

    async def _contact_sheet(self, request: web.Request) -> web.StreamResponse:
        wish = self.desk.find(request.match_info["token"])
        sheet = wish.sequence / CONTACT_SHEET if wish is not None and wish.sequence is not None else None
        if sheet is None or not sheet.is_file():
            return refusal("This wish has no contact sheet (yet).", 404)
        return web.FileResponse(sheet, headers=HEADERS)

    def _told(self, wish: Wish) -> dict[str, Any]:
        """What the visitor's page shows of its wish."""
        told: dict[str, Any] = {"token": wish.token, "number": wish.number, "state": wish.state.name.lower()}
        told |= {"words": wish.state.value, "place": self.desk.place(wish), "message": wish.message}
        if wish.state is State.READY:
            told["contact_sheet"] = f"/visit/wish/{wish.token}/contact.png"
        return told


async def _read_text(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(1024):
        data += chunk
        if len(data) > MAX_FIELD:
            raise Refused(f"The wish is over {MAX_FIELD} bytes long; keep it under {MAX_PROMPT} characters.", "prompt")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("The wish is not readable text; write it again.", "prompt") from None


def _visitor(request: web.Request) -> str | None:
    """The page's cookie, if it is one this server could have given."""
    given = request.cookies.get(COOKIE, "")
    return given if _VISITOR_ID.fullmatch(given) else None


def main(link_fd: int, listener_fd: int) -> int:
    """Serve the visitor page until the show closes the link, at the lowest priority."""
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    with contextlib.suppress(OSError, ValueError):  # idle connections cost a file each: allow what the system does
        resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    return run_linked(link_fd, listener_fd, VisitorServer, "visitors: the visitor page", log)


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
