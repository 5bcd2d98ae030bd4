"""The desk: who may wish, what a wish may say, the queue's order and bounds (no sockets)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from installation.visitors.desk import (
    MAX_PROMPT,
    REMEMBERED,
    Desk,
    Refused,
    State,
    check_prompt,
    daily_line,
    read_blocklist,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def desk(every: float = 600.0, size: int = 3, **settings) -> tuple[Desk, Clock]:
    clock = Clock()
    return Desk(every, size, clock=clock, **settings), clock


def refusal(action) -> Refused:
    with pytest.raises(Refused) as refused:
        action()
    return refused.value


def test_a_prompt_is_tidied_and_unicode_is_welcome() -> None:
    assert check_prompt("  a   flooded\ncathedral ") == "a flooded cathedral"
    assert check_prompt("夜の海に浮かぶ城 🌊") == "夜の海に浮かぶ城 🌊"


@pytest.mark.parametrize(
    ("prompt", "words", "reason"),
    [
        ("", "Write a few words", "prompt"),
        ("   \n\t ", "Write a few words", "prompt"),
        ("x" * 10_240, f"10240 characters long; keep it under {MAX_PROMPT}", "prompt"),
        ("a cat\x00\x1b[2J", "cannot be shown", "prompt"),
        ("right-to-left \u202e trick", "cannot be shown", "prompt"),
        ("private \ue000 use", "cannot be shown", "prompt"),
    ],
)
def test_absurd_prompts_are_refused_in_one_sentence(prompt: str, words: str, reason: str) -> None:
    refused = refusal(lambda: check_prompt(prompt))
    assert words in str(refused) and reason == refused.reason
    assert str(refused).count(".") == 1


def test_the_block_list_matches_whole_words_in_any_case() -> None:
    blocked = read_blocklist(["# the gallery's list", "Gore  violence", "", "spam # trailing comment"])
    assert blocked == {"gore", "violence", "spam"}
    assert refusal(lambda: check_prompt("a GORE-soaked field", blocked)).reason == "blocked"
    assert "gore" not in str(refusal(lambda: check_prompt("gore", blocked)))  # the word is not said back
    assert check_prompt("a gorgeous field of spammers", blocked) == "a gorgeous field of spammers"


def test_one_wish_per_visitor_by_cookie_or_by_address() -> None:
    wishes, clock = desk(every=600.0, size=100)
    wishes.submit("cookie-a", "10.0.0.1", "a storm")
    same_cookie = refusal(lambda: wishes.submit("cookie-a", "10.0.0.2", "a storm"))
    same_address = refusal(lambda: wishes.submit("cookie-b", "10.0.0.1", "a storm"))
    assert same_cookie.reason == same_address.reason == "rate"
    assert "One wish each 10 minutes; try again in 10 minutes." == str(same_address)
    clock.now += 599
    assert "try again in 1 minute." in str(refusal(lambda: wishes.submit("cookie-c", "10.0.0.1", "x")))
    clock.now += 1
    assert wishes.submit("cookie-a", "10.0.0.1", "a second storm").number == 2


def test_a_thousand_wishes_from_one_address_make_one() -> None:
    wishes, _ = desk(size=5)
    taken = 0
    for visitor in range(1000):
        try:
            wishes.submit(f"cookie-{visitor}", "192.168.1.66", f"wish {visitor}")
            taken += 1
        except Refused as refused:
            assert refused.reason == "rate"
    assert taken == 1 and len(wishes.waiting()) == 1


def test_a_full_queue_says_when_to_come_back() -> None:
    wishes, _ = desk(size=2)
    first = wishes.submit("a", "10.0.0.1", "one")
    wishes.submit("b", "10.0.0.2", "two")
    full = refusal(lambda: wishes.submit("c", "10.0.0.3", "three"))
    assert full.reason == "full" and str(full) == "The queue is full; try again in 1 minute."
    assert wishes.next_wish() is first  # being made still takes a place
    assert refusal(lambda: wishes.submit("c", "10.0.0.3", "three")).reason == "full"
    wishes.made(first, Path("made"), 600.0)
    assert wishes.submit("c", "10.0.0.3", "three").number == 3
    assert wishes.minutes_to_space() == 10  # the wishes made so far took 10 minutes


def test_places_count_the_wish_being_made_first() -> None:
    wishes, _ = desk(size=5)
    made = [wishes.submit(f"v{i}", f"10.0.0.{i}", f"wish {i}") for i in range(3)]
    assert [wishes.place(wish) for wish in made] == [1, 2, 3]
    assert wishes.next_wish() is made[0]
    assert [wishes.place(wish) for wish in made] == [0, 2, 3]
    assert made[0].state is State.MAKING


def test_the_operator_approves_refuses_clears_and_pauses() -> None:
    wishes, _ = desk(size=5, approve=True)
    a, b, c = (wishes.submit(f"v{i}", f"10.0.0.{i}", f"wish {i}") for i in range(3))
    assert a.state is State.APPROVAL and wishes.next_wish() is None  # nothing is made before a tap
    assert wishes.accept(b.number) and not wishes.accept(b.number)
    assert wishes.next_wish() is b
    assert wishes.refuse(a.number) and a.state is State.REFUSED and not wishes.refuse(99)
    assert wishes.clear() == 1 and c.state is State.REFUSED and "cleared" in c.message
    wishes.paused = True
    assert refusal(lambda: wishes.submit("v9", "10.0.0.9", "late")).reason == "paused"
    assert wishes.counts == Counter({"wished": 3, "refused: operator": 2})


def test_memory_stays_bounded_under_a_flood_of_new_visitors() -> None:
    wishes, clock = desk(every=0.0, size=1)
    for number in range(REMEMBERED * 3):
        wish = wishes.submit(f"v{number}", f"10.{number // 256}.{number % 256}.1", "again")
        assert wishes.next_wish() is wish
        wishes.failed(wish, "no", "error")
        clock.now += 1
    assert len(wishes.wishes()) == REMEMBERED


def test_the_daily_line_names_every_reason() -> None:
    counts = Counter({"wished": 4, "made": 3, "refused: rate": 5, "refused: prompt": 1, "failed: timeout": 1})
    assert daily_line(counts) == "4 wishes taken, 3 made, 6 refused (1 prompt, 5 rate), 1 failed (1 timeout)"
    assert daily_line(Counter()) == "0 wishes taken, 0 made, 0 refused, 0 failed"
