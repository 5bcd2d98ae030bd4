"""Tap tempo, with a fake clock."""

from __future__ import annotations

import threading

import pytest

from installation.control.tempo import SYNCS, open_source
from installation.control.tempo.tap import TapTempo
from installation.scene.show import Show
from installation.scene.tempo import TempoPolicy
from tests.helpers import flat_stage


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def tapped(*gaps: float) -> tuple[TapTempo, FakeClock]:
    clock = FakeClock()
    tap = TapTempo(now=clock)
    tap.tap()
    for gap in gaps:
        clock.now += gap
        tap.tap()
    return tap, clock


def test_four_taps_half_a_second_apart_are_120_bpm_and_the_last_sets_the_phase() -> None:
    tap, clock = tapped(0.5, 0.5, 0.5)
    reading = tap.read(0.0)
    assert reading is not None and reading.tempo == pytest.approx(120.0)
    assert reading.beat == pytest.approx(3.0)  # taps one to four are the beats of a bar
    clock.now += 0.25
    assert tap.read(0.0).beat == pytest.approx(3.5)
    clock.now += 0.25
    assert tap.read(0.0).phase == pytest.approx(0.0)  # the next downbeat


def test_fewer_than_four_taps_set_nothing() -> None:
    tap, _ = tapped(0.5, 0.5)
    assert tap.read(0.0) is None


def test_a_pause_of_two_seconds_starts_a_new_count_and_keeps_the_old_tempo_meanwhile() -> None:
    tap, clock = tapped(0.5, 0.5, 0.5)
    clock.now += 2.5
    tap.tap()
    assert tap.taps == 1 and tap.read(0.0).tempo == pytest.approx(120.0)
    for _ in range(3):
        clock.now += 0.4
        tap.tap()
    reading = tap.read(0.0)
    assert reading.tempo == pytest.approx(150.0) and reading.beat == pytest.approx(3.0)


def test_the_phase_follows_the_last_of_a_long_count() -> None:
    tap, clock = tapped(0.5, 0.5, 0.5, 0.5, 0.49)  # a last tap 10 ms early
    reading = tap.read(0.0)
    assert reading.beat == pytest.approx(5.0)
    assert abs(reading.tempo - 120.0) < 1.0


def test_set_tempo_keeps_the_phase_and_bad_tempos_are_counted() -> None:
    tap, clock = tapped(0.5, 0.5, 0.5)
    clock.now += 0.5
    assert tap.set_tempo(90.0)
    reading = tap.read(0.0)
    assert reading.tempo == 90.0 and reading.beat == pytest.approx(4.0)
    assert not tap.set_tempo(float("nan")) and not tap.set_tempo(5000)
    assert tap.rejected == 2
    too_fast, _ = tapped(0.01, 0.01, 0.01)  # 6000 BPM
    assert too_fast.read(0.0) is None and too_fast.rejected == 1


def test_taps_from_threads_while_the_loop_reads() -> None:
    tap = TapTempo()
    threads = [threading.Thread(target=tap.tap) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tap.read(0.0)
    assert 1 <= tap.taps <= 8


def test_tapped_moves_land_on_the_tapped_bars() -> None:
    clock = FakeClock()
    tap = TapTempo(now=clock)
    policy = TempoPolicy(tap, hold_beats=2)
    show = Show(flat_stage(3), policy=policy)
    beats, arrivals, moving = [], [], False
    for frame in range(60 * 30):
        if frame in (30, 60, 90, 120):  # four taps, 0.5 s apart
            tap.tap()
        state = show.advance(1 / 60 if frame else 0.0, time=frame / 60)
        beats.append(policy.beat.beat if policy.beat else None)
        if moving and not state.conductor.moving and frame > 150:
            arrivals.append(frame)
        moving = state.conductor.moving
        clock.now += 1 / 60
    assert len(arrivals) >= 3
    for frame in arrivals:
        # the count's first tap (frame 30) is a downbeat: bars every 2 s from there
        assert (frame - 30) % 120 == 0


def test_every_sync_name_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    assert open_source("free") is None
    assert isinstance(open_source("tap"), TapTempo)
    assert open_source("audio").name == "audio"
    with pytest.raises(ValueError, match="unknown sync"):
        open_source("bogus")
    assert set(SYNCS) == {"free", "link", "midi", "tap", "audio"}
