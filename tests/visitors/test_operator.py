"""The operator's visitors commands: parsed like every command, posted for the visitors' process."""

from __future__ import annotations

import math

import pytest

from installation.control.mapping import load_mapping
from installation.control.osc import translate
from installation.control.oscquery import address_space
from installation.scene.commands import VISITOR_REQUESTS, Command, Mailbox, run
from installation.scene.show import Show
from tests.helpers import flat_stage


@pytest.mark.parametrize(
    ("address", "args", "command"),
    [
        ("/visitors/accept", (3,), Command("visitors/accept", (3,))),
        ("/visitors/refuse", (7.0,), Command("visitors/refuse", (7,))),
        ("/visitors/pause", (), Command("visitors/pause", (None,))),
        ("/visitors/approve", (1,), Command("visitors/approve", (True,))),
        ("/visitors/delete", ("wish-20261206-120000-4",), Command("visitors/delete", ("wish-20261206-120000-4",))),
    ],
)
def test_osc_messages_become_visitors_commands(address: str, args: tuple, command: Command) -> None:
    assert translate(load_mapping(), address, args) == [command]


@pytest.mark.parametrize(
    ("address", "args"),
    [
        ("/visitors/accept", ("three",)),
        ("/visitors/accept", (math.nan,)),
        ("/visitors/delete", ("x" * 10_000,)),
        ("/visitors/delete", (4,)),
        ("/visitors/nothing", (1,)),
        ("/visitors", (1,)),
    ],
)
def test_absurd_visitors_messages_are_ignored(address: str, args: tuple) -> None:
    assert translate(load_mapping(), address, args) == []


def test_a_visitors_command_is_posted_not_applied_to_the_show() -> None:
    show = Show(flat_stage())
    VISITOR_REQUESTS.take()
    run(show, Command("visitors/accept", (2,)))
    assert VISITOR_REQUESTS.take() == [Command("visitors/accept", (2,))]
    assert VISITOR_REQUESTS.take() == []


def test_the_mailbox_keeps_the_newest_when_nobody_takes() -> None:
    box = Mailbox()
    for number in range(1000):
        box.post(Command("visitors/refuse", (number,)))
    taken = box.take()
    assert len(taken) == Mailbox.LIMIT and taken[-1] == Command("visitors/refuse", (999,))


def test_the_tree_lists_the_visitors_commands_without_a_keyframe_range() -> None:
    space = address_space(keyframes=16)
    assert space["/visitors/accept"].ranges == () and space["/goto"].ranges[0][1] == ("MAX", 15)
    assert space["/visitors/pause"].ranges[0] == (("MIN", 0), ("MAX", 1))
