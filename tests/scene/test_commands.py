"""The command table: raw surface arguments parsed once, applied to the show, never raising."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from installation.scene.commands import COMMANDS, MAX_NAME, Command, CommandQueue, parse, run
from installation.scene.show import Show
from tests.helpers import flat_stage


@pytest.mark.parametrize(
    "name, args, expected",
    [
        ("next", (), (True,)),
        ("next", (1.0,), (True,)),
        ("next", (0,), (False,)),
        ("next", ("x",), None),
        ("goto", (2.9,), (2,)),
        ("goto", (1e300,), (1_000_000_000,)),
        ("goto", (math.nan,), None),
        ("goto", (), None),
        ("pause", (), (None,)),
        ("pause", (True,), (True,)),
        ("blackout", (0.0,), (False,)),
        ("sequence", ("alps",), ("alps",)),
        ("sequence", ("x" * (MAX_NAME + 1),), None),
        ("sequence", (3,), None),
        ("set", ("hue", 10), ("hue", 10.0)),
        ("set", ("hue", math.inf), None),
        ("teleport", (), None),
    ],
)
def test_parse(name: str, args: tuple, expected: tuple | None) -> None:
    command = parse(name, args)
    assert (command.args if command else None) == expected


def test_commands_drive_the_show() -> None:
    show = Show(flat_stage(4))
    for command in (
        Command("goto", (2,)),
        Command("pause", (None,)),
        Command("blackout", (None,)),
        Command("set", ("hue", 999.0)),
    ):
        run(show, command)
    state = show.advance(0.0)
    assert (state.conductor.target, state.conductor.paused, state.settings.blackout, state.settings.hue) == (
        2,
        True,
        1.0,
        180.0,
    )
    run(show, Command("blackout", (None,)))
    run(show, Command("next", (False,)))  # a button's release does nothing
    assert show.parameters.target("blackout") == 0.0 and show.conductor.target == 2


def test_sequence_only_asks_the_pipeline() -> None:
    show = Show(flat_stage(2))
    run(show, Command("sequence", ("other",)))
    assert show.requested == "other" and show.name == "test"


@given(
    st.sampled_from(sorted(COMMANDS)),
    st.lists(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=300), st.binary(max_size=8)),
        max_size=3,
    ),
)
def test_any_arguments_parse_to_a_command_that_runs_or_to_none(name: str, args: list) -> None:
    show = Show(flat_stage(3))
    command = parse(name, tuple(args))
    if command is not None:
        run(show, command)
    state = show.advance(0.1)
    assert all(math.isfinite(value) for value in state.settings.as_dict().values())
    assert 0 <= state.index_a < 3


def test_the_queue_keeps_arrival_order_and_drops_beyond_its_limit() -> None:
    queue = CommandQueue()
    for index in range(CommandQueue.LIMIT + 5):
        queue.put(Command("goto", (index,)))
    taken = queue.take()
    assert len(taken) == CommandQueue.LIMIT and queue.dropped == 5
    assert [command.args[0] for command in taken[:3]] == [0, 1, 2]


@given(st.lists(st.sampled_from([("set", "hue"), ("set", "speed"), ("next", None), ("blackout", None)]), max_size=30))
def test_a_parameter_set_twice_in_one_take_is_set_once_with_the_same_show(kinds: list) -> None:
    commands = [
        Command("set", (name, float(index))) if kind == "set" else Command(kind, (True,) if kind == "next" else (None,))
        for index, (kind, name) in enumerate(kinds)
    ]
    queue = CommandQueue()
    for command in commands:
        queue.put(command)
    taken = queue.take()
    assert [c for c in commands if c.name != "set"] == [c for c in taken if c.name != "set"]
    assert len([c for c in taken if c.name == "set"]) == len({c.args[0] for c in commands if c.name == "set"})
    every, once = Show(flat_stage(3)), Show(flat_stage(3))
    for command in commands:
        run(every, command)
    for command in taken:
        run(once, command)
    assert every.parameters.values() == once.parameters.values() and every.conductor.target == once.conductor.target
