"""Every number option of every command has a floor and a ceiling that make sense for a show.

``--watchdog 0.001`` used to be accepted and end the show before its first frame (exit 3, and
under systemd a restart loop). Each range is a ``Bounds`` or ``Size`` declared as the option's
argparse type; these tests read them from the real parser, so a new option is covered at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from installation.cli import build_parser, main
from installation.options import Bounds, Size
from tests.helpers import metamorph

REQUIRED = {"capture": ["--out", "v.mp4"]}
"""What a command with number options needs besides the option tried."""


def commands() -> dict[str, argparse.ArgumentParser]:
    (action,) = (action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    return dict(action.choices)


def ranged_options() -> list[tuple[str, str, Bounds | Size]]:
    """(command, flag, range) of every option whose type declares a range."""
    return [
        (name, action.option_strings[0], action.type)
        for name, parser in commands().items()
        for action in parser._actions
        if isinstance(action.type, (Bounds, Size))
    ]


RANGED = ranged_options()
PARSER = build_parser()
DESTS = {
    (name, flag): action.dest
    for name, parser in commands().items()
    for action in parser._actions
    for flag in action.option_strings
}


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def test_every_number_option_declares_its_range() -> None:
    """No option parses numbers without a range, whatever its default or its converter."""
    unranged = [
        (name, action.dest)
        for name, parser in commands().items()
        for action in parser._actions
        if not isinstance(action.type, (Bounds, Size))
        and (action.type in (int, float) or is_number(action.default) or is_number(action.const))
    ]
    assert unranged == []
    assert len(RANGED) > 40  # the registry's parameters, twice, and the commands' own


def test_a_watchdog_of_a_millisecond_is_refused(sequence_folder: Path) -> None:
    """Issue 22, item 10: it was accepted and the show exited 3 before its first frame."""
    result = metamorph("play", str(sequence_folder), "--watchdog", "0.001", "--frames", "3", "--window", "160x96")
    assert result.returncode == 2
    assert result.stderr == (
        "metamorph: error: argument --watchdog: '0.001' is not a finite number from 5 to 3600 (or 0: off); "
        "give e.g. 15 (see `metamorph play --help`).\n"
    )


def plain(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def past(kind: Bounds | Size) -> st.SearchStrategy[str]:
    """Text of values just and far past the range, and of what is no number at all."""
    if isinstance(kind, Size):
        side = st.one_of(st.integers(0, kind.low - 1), st.integers(kind.high + 1, 10**9 - 1))
        return st.builds(
            lambda bad, good, flip: f"{good}x{bad}" if flip else f"{bad}x{good}", side, st.just(kind.low), st.booleans()
        )
    if kind.whole:
        numbers = st.one_of(st.integers(max_value=int(kind.low) - 1), st.integers(min_value=int(kind.high) + 1))
        return numbers.filter(lambda value: value != kind.off).map(str) | st.sampled_from(["1.5", "nan", ""])
    below = st.floats(max_value=kind.low, exclude_max=True, allow_nan=False)
    above = st.floats(min_value=kind.high, exclude_min=True, allow_nan=False)
    outside = (below | above).filter(lambda value: not kind.low <= value <= kind.high and value != kind.off)
    return outside.map(repr) | st.sampled_from(["nan", "-inf", "x"])


def refusal(command: str, flag: str, kind: Bounds | Size, text: str) -> str:
    if isinstance(kind, Size):
        what = f"is not a size with sides from {kind.low} to {kind.high}; write it as WIDTHxHEIGHT, e.g. "
        sane = f"{kind.sane[0]}x{kind.sane[1]}"
    else:
        off = "" if kind.off is None else f" (or {plain(kind.off)}: off)"
        number = "a whole number" if kind.whole else "a finite number"
        what = f"is not {number} from {plain(kind.low)} to {plain(kind.high)}{off}; give e.g. "
        sane = plain(kind.sane)
    return f"metamorph: error: argument {flag}: {text!r} {what}{sane} (see `metamorph {command} --help`).\n"


@st.composite
def option_past_its_range(draw: st.DrawFn) -> tuple[str, str, Bounds | Size, str]:
    command, flag, kind = draw(st.sampled_from(RANGED))
    return command, flag, kind, draw(past(kind))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(option_past_its_range())
def test_any_value_past_any_range_is_one_sentence(
    capsys: pytest.CaptureFixture[str], case: tuple[str, str, Bounds | Size, str]
) -> None:
    command, flag, kind, text = case
    capsys.readouterr()
    code = main([command, *REQUIRED.get(command, []), f"{flag}={text}"])
    assert (code, capsys.readouterr().err) == (2, refusal(command, flag, kind, text))


@st.composite
def option_within_its_range(draw: st.DrawFn) -> tuple[str, str, Bounds | Size, str, object]:
    """A value at either end of the range, inside it, or the one that turns the option off."""
    command, flag, kind = draw(st.sampled_from(RANGED))
    if isinstance(kind, Size):
        width, height = draw(st.sampled_from([kind.low, kind.high])), draw(st.integers(kind.low, kind.high))
        return command, flag, kind, f"{width}x{height}", (width, height)
    ends = [kind.low, kind.high, *([] if kind.off is None else [kind.off])]
    inside = st.integers(int(kind.low), int(kind.high)) if kind.whole else st.floats(kind.low, kind.high)
    value = draw(st.sampled_from(ends) | inside)
    return command, flag, kind, str(value) if kind.whole else repr(float(value)), value


@settings(max_examples=300, deadline=None)
@given(option_within_its_range())
def test_any_value_within_any_range_is_taken_as_typed(case: tuple[str, str, Bounds | Size, str, object]) -> None:
    command, flag, kind, text, value = case
    parsed = vars(PARSER.parse_args([command, *REQUIRED.get(command, []), f"{flag}={text}"]))
    got = parsed[DESTS[command, flag]]
    assert (got[0] if isinstance(got, list) else got) == value
