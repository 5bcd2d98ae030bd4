"""The one back-off of the loops that try again (web process, sound device, MIDI, zeroconf)."""

from __future__ import annotations

from installation.backoff import Backoff


def test_pauses_double_up_to_the_limit_and_start_over_after_a_success() -> None:
    retry = Backoff(3.0, 30.0)
    assert [retry.failed() for _ in range(6)] == [3.0, 6.0, 12.0, 24.0, 30.0, 30.0]
    retry.succeeded()
    assert [retry.failed() for _ in range(2)] == [3.0, 6.0]


def test_a_limit_below_the_first_pause_keeps_the_first() -> None:
    retry = Backoff(10.0, 1.0)
    assert [retry.failed() for _ in range(3)] == [10.0, 10.0, 10.0]
