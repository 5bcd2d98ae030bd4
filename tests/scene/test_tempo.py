"""The tempo policy: moves that land on bar lines, with fake beat sources of known beat functions."""

from __future__ import annotations

import json
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from installation.scene.pacing import SecondsPolicy
from installation.scene.show import Show
from installation.scene.tempo import Beat, TempoMap, TempoPolicy, beats_path, valid_tempo, write_beats
from tests.helpers import flat_stage

FPS = 60


@dataclass
class Fake:
    """A beat source whose beat is ``beat(t)`` and tempo ``tempo(t)`` of show time."""

    beat: Callable[[float], float]
    tempo: Callable[[float], float]
    locked: Callable[[float], bool] = lambda t: True
    name: str = "fake"
    reads: list[float] = field(default_factory=list)

    def read(self, show_time: float) -> Beat | None:
        self.reads.append(show_time)
        return Beat(self.tempo(show_time), self.beat(show_time), locked=self.locked(show_time), time=show_time)

    def close(self) -> None:
        pass


def steady(bpm: float, offset: float = 0.0) -> Fake:
    return Fake(lambda t: (t - offset) * bpm / 60.0, lambda t: bpm)


def ramp(start: float, stop: float, seconds: float) -> Fake:
    """Tempo moving linearly from ``start`` to ``stop`` BPM over ``seconds``, steady after."""
    slope = (stop - start) / seconds

    def beat(t: float) -> float:
        u = min(t, seconds)
        return (start * u + slope * u * u / 2 + stop * max(t - seconds, 0.0)) / 60.0

    return Fake(beat, lambda t: start + slope * min(t, seconds))


def step(first: float, second: float, at: float) -> Fake:
    return Fake(
        lambda t: (first * min(t, at) + second * max(t - at, 0.0)) / 60.0,
        lambda t: first if t < at else second,
    )


@dataclass
class Run:
    times: list[float]
    beats: list[float | None]
    moving: list[bool]
    arrivals: list[int]
    """Frame numbers at which a move had landed (the first frame at rest after it)."""
    durations: list[int]
    """Frames each move was drawn moving."""


def perform(policy: TempoPolicy, seconds: float, count: int = 3) -> Run:
    show = Show(flat_stage(count), policy=policy)
    run = Run([], [], [], [], [])
    moving_for = 0
    for frame in range(int(seconds * FPS)):
        t = frame / FPS
        state = show.advance(1 / FPS if frame else 0.0, time=t)
        run.times.append(t)
        run.beats.append(policy.beat.beat + policy.latency * policy.beat.tempo / 60 if policy.beat else None)
        run.moving.append(state.conductor.moving)
        if state.conductor.moving:
            moving_for += 1
        elif moving_for:
            run.arrivals.append(frame)
            run.durations.append(moving_for)
            moving_for = 0
    return run


def assert_lands_on_bars(run: Run, quantum: float = 4.0) -> None:
    """Every move landed on the first frame at or after a bar line."""
    assert run.arrivals
    for frame in run.arrivals:
        # the conductor arrives during the update of the first frame at or past the bar line
        landed = run.beats[frame]
        before = run.beats[frame - 1]
        assert landed is not None and before is not None
        bar = math.floor(landed / quantum + 1e-6) * quantum
        assert before < bar - 1e-9 <= landed, (frame, before, bar, landed)


@pytest.mark.parametrize("bpm", [60.0, 96.0, 120.0, 128.0, 174.0, 240.0])
def test_steady_tempo_moves_land_on_bar_lines(bpm: float) -> None:
    run = perform(TempoPolicy(steady(bpm, offset=0.123)), 40.0)
    assert_lands_on_bars(run)
    beat_frames = FPS * 60 / bpm
    for frames in run.durations[1:]:  # the first move may start from an earlier, free rest
        assert abs(frames - 4 * beat_frames) <= 1.0


@pytest.mark.parametrize(
    "source",
    [ramp(90, 170, 30.0), ramp(170, 95, 30.0), step(120, 140, 13.37), step(140, 97, 9.0)],
    ids=["ramp up", "ramp down", "step up", "step down"],
)
def test_changing_tempo_moves_land_on_bar_lines(source: Fake) -> None:
    run = perform(TempoPolicy(source, transition_beats=4, hold_beats=2), 45.0)
    assert len(run.arrivals) >= 8
    assert_lands_on_bars(run)


@pytest.mark.parametrize(("transition", "quantum"), [(2, 4), (8, 4), (3, 3), (4, 1)])
def test_other_lengths_and_quanta_land_on_their_bars(transition: float, quantum: float) -> None:
    run = perform(TempoPolicy(steady(128), transition_beats=transition, hold_beats=1, quantum=quantum), 30.0)
    assert_lands_on_bars(run, quantum)


def test_the_source_is_read_once_a_frame_at_show_time() -> None:
    source = steady(120)
    perform(TempoPolicy(source), 2.0)
    assert source.reads == [frame / FPS for frame in range(2 * FPS)]


def test_latency_draws_the_picture_ahead_of_the_beat() -> None:
    plain = perform(TempoPolicy(steady(120)), 20.0)
    ahead = perform(TempoPolicy(steady(120), latency=0.1), 20.0)
    bar = 2 * FPS  # 4 beats at 120 BPM
    assert len(ahead.arrivals) >= 4 and len(plain.arrivals) >= 4
    assert {a % bar for a in plain.arrivals} == {0}
    assert {(a + 6) % bar for a in ahead.arrivals} == {0}  # 0.1 s earlier at 60 fps


def test_wild_tempo_never_makes_a_move_shorter_than_a_frame_or_longer_than_its_hold() -> None:
    rng = random.Random(7)
    tempos = [rng.uniform(20.0, 999.0) for _ in range(40 * FPS)]
    beats = [0.0]
    for bpm in tempos[:-1]:
        beats.append(beats[-1] + bpm / 60 / FPS)
    source = Fake(lambda t: beats[round(t * FPS)], lambda t: tempos[round(t * FPS)])
    policy = TempoPolicy(source, transition_beats=4, hold_beats=4)
    run = perform(policy, 40.0)
    assert len(run.durations) >= 5
    assert min(run.durations) >= 1
    assert max(run.durations) <= (4 + 4) * 60 / 20 * FPS + 1


def test_a_jumping_timeline_replans_the_move_without_a_jump_in_the_picture() -> None:
    # A Link session joined mid-move: the beat jumps by 1.7 beats at t = 10 s.
    source = Fake(lambda t: t * 2 + (1.7 if t >= 10 else 0), lambda t: 120.0)
    policy = TempoPolicy(source, hold_beats=1)
    show = Show(flat_stage(3), policy=policy)
    last = 0.0
    for frame in range(20 * FPS):
        state = show.advance(1 / FPS if frame else 0.0, time=frame / FPS)
        progress = state.conductor.progress
        if state.conductor.moving:
            assert progress - last < 0.1  # no move leaps forward in one frame
        last = progress if state.conductor.moving else 0.0


def test_without_a_source_the_policy_is_the_seconds_policy() -> None:
    free = perform(TempoPolicy(None), 20.0)
    show = Show(flat_stage(3), policy=SecondsPolicy())
    seconds = [show.advance(1 / FPS if f else 0.0, time=f / FPS).conductor.moving for f in range(20 * FPS)]
    assert free.moving == seconds


def test_no_lock_runs_free_says_so_once_and_follows_the_beat_when_it_locks(caplog: pytest.LogCaptureFixture) -> None:
    source = steady(120)
    source.locked = lambda t: t >= 15.0
    policy = TempoPolicy(source, hold_beats=2)
    with caplog.at_level(logging.INFO, logger="installation.scene.tempo"):
        run = perform(policy, 40.0)
    free_lines = [r for r in caplog.records if "runs free" in r.getMessage()]
    assert len(free_lines) == 1
    early = [f for f in run.arrivals if f < 15 * FPS]
    late = [f for f in run.arrivals if f > 15 * FPS + 2]
    assert early and late  # it moved while free (hold 3 s, duration...) and after the lock
    for frame in late[1:]:
        landed, before = run.beats[frame], run.beats[frame - 1]
        assert landed is not None and before is not None
        assert math.floor(before / 4) < math.floor(landed / 4 + 1e-6)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 0.0, 19.9, 1000.0, -120.0])
def test_bad_tempo_readings_are_counted_and_ignored(bad: float) -> None:
    good = steady(120)
    source = Fake(good.beat, lambda t: bad if 5.0 <= t < 6.0 else 120.0)
    policy = TempoPolicy(source)
    run = perform(policy, 30.0)
    assert policy.rejected == FPS
    assert_lands_on_bars(run)


def test_set_tempo_checks_the_number_and_asks_the_source() -> None:
    asked: list[float] = []

    class Settable(Fake):
        def set_tempo(self, bpm: float) -> bool:
            asked.append(bpm)
            return True

    policy = TempoPolicy(Settable(lambda t: 0.0, lambda t: 120.0))
    assert policy.set_tempo(133) and asked == [133.0]
    for bad in (math.nan, 5, 1200, "fast", None):
        assert not policy.set_tempo(bad)
    assert policy.rejected == 5 and asked == [133.0]
    assert not TempoPolicy(steady(120)).set_tempo(100)  # a source without a tempo of its own


def test_status_describes_the_beat() -> None:
    policy = TempoPolicy(steady(120))
    perform(policy, 1.0)
    found = policy.describe()
    assert found["sync"] == "fake" and found["locked"] is True and found["tempo"] == 120.0
    assert found["beat_in_bar"] == int((59 / 60 * 2) % 4)
    json.dumps(found)


@pytest.mark.parametrize("value", [20, 999, 120.5, "128"])
def test_valid_tempos(value: object) -> None:
    assert valid_tempo(value)


# The tempo map of a capture -------------------------------------------------------------------


def test_a_steady_map_puts_beat_zero_at_the_offset() -> None:
    tempo_map = TempoMap(128, offset=0.25)
    assert tempo_map.beat_at(0.25) == 0.0
    assert tempo_map.beat_at(0.25 + 60 / 128 * 8) == pytest.approx(8.0)
    assert tempo_map.read(1.0).tempo == 128
    assert tempo_map.time_of(4.0) == pytest.approx(0.25 + 4 * 60 / 128)


def test_a_map_of_beat_times_goes_through_them_and_on_at_their_tempo() -> None:
    times = [0.5, 1.0, 1.52, 2.0, 2.5]
    tempo_map = TempoMap.from_beats(times)
    assert tempo_map.bpm == pytest.approx(120.0)
    for i, t in enumerate(times):
        assert tempo_map.beat_at(t) == pytest.approx(i)
        assert tempo_map.time_of(i) == pytest.approx(t)
    assert tempo_map.beat_at(3.0) == pytest.approx(5.0)
    assert tempo_map.beat_at(0.0) == pytest.approx(-1.0)
    assert tempo_map.tempo_at(1.1) == pytest.approx(60 / 0.52)


@pytest.mark.parametrize("made", [TempoMap(100, 0.3), TempoMap.from_beats([0.1, 0.6, 1.1, 1.7])])
def test_a_map_written_beside_a_video_reads_back_the_same(made: TempoMap, tmp_path: Path) -> None:
    path = write_beats(made, beats_path(tmp_path / "show.mp4"))
    assert path == tmp_path / "show.beats.json"
    back = TempoMap.from_json(json.loads(path.read_text()))
    assert back == made  # exactly: a capture's ranges read the map back


@pytest.mark.parametrize("bad", [math.nan, 10.0, 5000.0])
def test_a_map_refuses_a_bad_tempo(bad: float) -> None:
    with pytest.raises(ValueError, match="BPM"):
        TempoMap(bad)


def test_captures_on_a_tempo_map_are_frame_exact_and_land_on_its_bars() -> None:
    tempo_map = TempoMap.from_beats([0.37 + i * 0.47 + 0.01 * math.sin(i) for i in range(100)])
    first = perform(TempoPolicy(tempo_map), 40.0)
    again = perform(TempoPolicy(tempo_map), 40.0)
    assert first.moving == again.moving
    assert_lands_on_bars(first)
    for frame in first.arrivals[1:]:
        bar = round(tempo_map.beat_at(first.times[frame]) / 4) * 4
        assert 0 <= first.times[frame] - tempo_map.time_of(bar) < 1 / FPS
