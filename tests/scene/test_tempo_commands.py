"""/sync, /tempo and /tap: commands of the command table acting on the show's tempo policy."""

from __future__ import annotations

import math

from installation.scene.commands import ACTIONS, Command, parse, run
from installation.scene.show import Show
from installation.scene.tempo import Beat, TempoPolicy
from tests.helpers import flat_stage


class Source:
    """A beat source that records what it is asked."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tempos: list[float] = []
        self.taps = 0
        self.closed = False

    def read(self, show_time: float) -> Beat | None:
        return Beat(120.0, show_time * 2.0)

    def set_tempo(self, bpm: float) -> bool:
        self.tempos.append(bpm)
        return True

    def tap(self) -> None:
        self.taps += 1

    def close(self) -> None:
        self.closed = True


def tempo_show() -> tuple[Show, list[Source]]:
    opened: list[Source] = []

    def opener(name: str) -> Source | None:
        opened.append(Source(name))
        return opened[-1]

    return Show(flat_stage(3), policy=TempoPolicy(None, opener=opener)), opened


def test_sync_opens_the_named_source_and_closes_the_last() -> None:
    show, opened = tempo_show()
    for name in ("tap", "link"):
        command = parse("sync", (name,))
        assert command is not None
        run(show, command)
    assert [source.name for source in opened] == ["tap", "link"]
    assert show.policy.source is opened[1] and opened[0].closed and not opened[1].closed


def test_sync_free_runs_free_and_an_unknown_name_is_refused() -> None:
    show, opened = tempo_show()
    assert parse("sync", ("bogus",)) is None and parse("sync", ("link", "x")) is None and parse("sync", ()) is None
    run(show, Command("sync", ("free",)))
    assert opened[0].name == "free"  # the opener decides: control/tempo's gives None for free


def test_tempo_reaches_the_source_and_absurd_tempos_never_do() -> None:
    show, opened = tempo_show()
    run(show, Command("sync", ("link",)))
    for absurd in (math.nan, math.inf, -120.0, 19.9, 1000.0, "128", True):
        assert parse("tempo", (absurd,)) is None, absurd
    command = parse("tempo", (137.5,))
    assert command is not None
    run(show, command)
    assert opened[0].tempos == [137.5]


def test_tap_is_a_button_that_reaches_a_tap_source() -> None:
    show, opened = tempo_show()
    run(show, Command("sync", ("tap",)))
    for args in ((), (1.0,), (0.0,), (1,)):  # a push button sends 1 then 0: the release is no tap
        command = parse("tap", args)
        assert command is not None
        run(show, command)
    assert opened[0].taps == 3 and "tap" in ACTIONS
