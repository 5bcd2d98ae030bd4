"""The visitors' queue: who may wish, what a wish may say, in which order wishes are made.

Everything a stranger sends is checked here before it costs anything: one wish per visitor (the
page's cookie and the address, either one) per ``every`` seconds, a queue of at most ``size``
wishes, prompts of printable text up to MAX_PROMPT characters and none with a blocked word. A
refusal is a ``Refused`` whose message is the one sentence the visitor reads. What the desk
remembers is bounded: the last REMEMBERED wishes and the visitors of the last ``every`` seconds.
"""

from __future__ import annotations

import math
import re
import secrets
import time
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

MAX_PROMPT = 200
"""The longest prompt, in characters: a sentence or two, what a phone's box shows."""
REMEMBERED = 200
"""Wishes kept for their page and the control page; older finished ones are forgotten."""
VISITORS = 10_000
"""Visitors remembered at once for the rate limit: a flood of new cookies cannot fill the memory."""
TYPICAL_WISH_SECONDS = 60.0
"""How long a wish is guessed to take before one has been made (the queue-full estimate)."""


class Said(Exception):
    """What a visitor reads of their wish (the message), and the reason the day's figures count."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
        """A short name for the daily count (rate, full, prompt, blocked, paused, photo, timeout, ...)."""


class Refused(Said):
    """A wish the desk does not take."""


class State(Enum):
    APPROVAL = "waiting for the operator"
    QUEUED = "queued"
    MAKING = "being made"
    READY = "ready"
    FAILED = "failed"
    REFUSED = "refused"


WAITING = (State.APPROVAL, State.QUEUED)


@dataclass
class Wish:
    """One visitor's wish and what became of it."""

    number: int
    token: str
    """The wish's unguessable name in its page's address."""
    prompt: str
    visitor: str
    address: str
    photo: Path | None = None
    state: State = State.QUEUED
    message: str = ""
    """Why it failed or was refused, in one sentence."""
    sequence: Path | None = None
    created: float = field(default_factory=time.monotonic)


def minutes(count: int) -> str:
    return f"{count} minute" if count == 1 else f"{count} minutes"


def check_prompt(text: str, blocked: frozenset[str] = frozenset()) -> str:
    """The prompt as it will be used (spaces tidied), or ``Refused`` with the sentence to show."""
    prompt = " ".join(text.split())
    if not prompt:
        raise Refused("Write a few words of what the picture should become.", "prompt")
    if len(prompt) > MAX_PROMPT:
        raise Refused(f"The wish is {len(prompt)} characters long; keep it under {MAX_PROMPT}.", "prompt")
    if any(not character.isprintable() or unicodedata.category(character) == "Co" for character in prompt):
        raise Refused("The wish holds characters that cannot be shown; write plain text.", "prompt")
    if blocked and blocked & set(words(prompt)):
        raise Refused("That wish cannot be made here; try other words.", "blocked")
    return prompt


def words(text: str) -> list[str]:
    """The words of ``text`` as the block list compares them: lower case, letters and digits."""
    return re.findall(r"\w+", text.casefold())


def read_blocklist(lines: Iterable[str]) -> frozenset[str]:
    """The blocked words of a word list: one or more a line, ``#`` starts a comment."""
    return frozenset(word for line in lines for word in words(line.split("#", 1)[0]))


class Desk:
    """The queue, the limits and the operator's say; used from one thread (the server's loop)."""

    def __init__(
        self,
        every: float,
        size: int,
        approve: bool = False,
        blocked: frozenset[str] = frozenset(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.every = every
        self.size = size
        self.approve = approve
        """Wishes wait for the operator's tap before they are made."""
        self.paused = False
        self.blocked = blocked
        self._clock = clock
        self._wishes: OrderedDict[str, Wish] = OrderedDict()
        self._last_wish: OrderedDict[str, float] = OrderedDict()
        """When each visitor (cookie, and address) last wished, oldest first."""
        self._numbers = 0
        self._made_seconds: list[float] = []
        self.counts: Counter[str] = Counter()
        """Wishes taken, made, failed and refused, by reason: the daily log line's figures (the
        server counts refusals, those of the desk and its own)."""

    # Visitors ---------------------------------------------------------------------------------

    def check(self, visitor: str, address: str, prompt: str) -> str:
        """The prompt as it will be used, if a wish of ``visitor`` from ``address`` would be taken
        now; ``Refused`` otherwise. Asked before a photo is decoded, so a flood costs nothing."""
        if self.paused:
            raise Refused("Wishes are paused for a while; try again later.", "paused")
        text = check_prompt(prompt, self.blocked)
        now = self._clock()
        self._forget_visitors(now)
        last = max(
            self._last_wish.get(f"cookie {visitor}", -math.inf), self._last_wish.get(f"address {address}", -math.inf)
        )
        if now - last < self.every:
            wait = minutes(math.ceil((self.every - (now - last)) / 60))
            raise Refused(f"One wish each {self.every / 60:g} minutes; try again in {wait}.", "rate")
        if len(self.waiting()) + len(self.making()) >= self.size:
            raise Refused(f"The queue is full; try again in {minutes(self.minutes_to_space())}.", "full")
        return text

    def submit(self, visitor: str, address: str, prompt: str, photo: Path | None = None) -> Wish:
        """Take a wish (``check`` first: ``Refused`` leaves nothing behind)."""
        text = self.check(visitor, address, prompt)
        now = self._clock()
        for key in (f"cookie {visitor}", f"address {address}"):
            self._last_wish.pop(key, None)
            self._last_wish[key] = now
        while len(self._last_wish) > VISITORS:
            self._last_wish.popitem(last=False)
        self._numbers += 1
        state = State.APPROVAL if self.approve else State.QUEUED
        wish = Wish(self._numbers, secrets.token_urlsafe(12), text, visitor, address, photo, state, created=now)
        self._wishes[wish.token] = wish
        self._forget_wishes()
        self.counts["wished"] += 1
        return wish

    def find(self, token: str) -> Wish | None:
        return self._wishes.get(token)

    def place(self, wish: Wish) -> int:
        """The wish's place in the queue (1: made next), 0 when it is not waiting."""
        waiting = self.waiting()
        return waiting.index(wish) + 1 + len(self.making()) if wish in waiting else 0

    def minutes_to_space(self) -> int:
        """About when the queue has room again: when the wish being made should be done (the median
        of the last ones made)."""
        typical = (
            sorted(self._made_seconds)[len(self._made_seconds) // 2] if self._made_seconds else TYPICAL_WISH_SECONDS
        )
        return max(1, math.ceil(typical / 60))

    # The studio -------------------------------------------------------------------------------

    def next_wish(self) -> Wish | None:
        """The next queued wish, now being made; None when none is queued (or visitors are paused)."""
        if self.paused:
            return None
        wish = next((wish for wish in self._wishes.values() if wish.state is State.QUEUED), None)
        if wish is not None:
            wish.state = State.MAKING
        return wish

    def made(self, wish: Wish, sequence: Path, seconds: float) -> None:
        wish.state, wish.sequence = State.READY, sequence
        self._made_seconds = [*self._made_seconds[-19:], seconds]
        self.counts["made"] += 1

    def failed(self, wish: Wish, message: str, reason: str) -> None:
        wish.state, wish.message = State.FAILED, message
        self.counts[f"failed: {reason}"] += 1

    # The operator -----------------------------------------------------------------------------

    def accept(self, number: int) -> bool:
        """A wish waiting for approval goes into the queue."""
        wish = self._numbered(number, State.APPROVAL)
        if wish is not None:
            wish.state = State.QUEUED
        return wish is not None

    def refuse(self, number: int, message: str = "The operator passed on this wish.") -> bool:
        """A waiting wish is refused."""
        wish = self._numbered(number, *WAITING)
        if wish is not None:
            wish.state, wish.message = State.REFUSED, message
            self.counts["refused: operator"] += 1
        return wish is not None

    def clear(self) -> int:
        """Every waiting wish refused; how many."""
        waiting = self.waiting()
        for wish in waiting:
            self.refuse(wish.number, "The queue was cleared; try again in a while.")
        return len(waiting)

    def waiting(self) -> list[Wish]:
        return [wish for wish in self._wishes.values() if wish.state in WAITING]

    def making(self) -> list[Wish]:
        return [wish for wish in self._wishes.values() if wish.state is State.MAKING]

    def wishes(self) -> list[Wish]:
        """Every wish remembered, oldest first."""
        return list(self._wishes.values())

    def _numbered(self, number: int, *states: State) -> Wish | None:
        return next((w for w in self._wishes.values() if w.number == number and w.state in states), None)

    def _forget_visitors(self, now: float) -> None:
        while self._last_wish and now - next(iter(self._last_wish.values())) >= self.every:
            self._last_wish.popitem(last=False)

    def _forget_wishes(self) -> None:
        """Past REMEMBERED, the oldest finished wishes are forgotten (waiting ones never: the queue bounds them)."""
        finished = [token for token, wish in self._wishes.items() if wish.state not in (*WAITING, State.MAKING)]
        for token in finished[: max(0, len(self._wishes) - REMEMBERED)]:
            del self._wishes[token]


def daily_line(counts: Counter[str]) -> str:
    """The day's figures in a line: wishes taken and made, refused and failed by reason."""

    def reasons(kind: str) -> str:
        found = {name.split(": ", 1)[1]: count for name, count in counts.items() if name.startswith(f"{kind}: ")}
        total = sum(found.values())
        detail = ", ".join(f"{count} {reason}" for reason, count in sorted(found.items()))
        return f"{total} {kind}" + (f" ({detail})" if detail else "")

    return f"{counts['wished']} wishes taken, {counts['made']} made, {reasons('refused')}, {reasons('failed')}"
