"""The frame pipeline: one rule for frame 0, commands in arrival order, switches in the background."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from installation.errors import UserError
from installation.scene.clock import FixedClock
from installation.scene.commands import Command
from installation.scene.loader import SequenceLoader
from installation.scene.modulation import SoundFeatures
from installation.scene.pipeline import FramePipeline
from installation.scene.show import Show
from installation.scene.stage import Stage
from tests.helpers import flat_stage


class Library:
    """Stands in for a folder of sequences: ``prepare`` builds stages by name, ``gate`` holds loads."""

    def __init__(self, names: dict[str, int]) -> None:
        self.names = names
        self.loads: list[str] = []
        self.gate = threading.Event()
        self.gate.set()

    def prepare(self, path: Path) -> Stage:
        self.gate.wait(10)
        self.loads.append(path.name)
        if path.name not in self.names:
            raise UserError(f"{path} is broken")
        return flat_stage(self.names[path.name], name=path.name)


def pipeline_with(library: Library, tmp_path: Path) -> FramePipeline:
    for name in library.names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text("{}")
    loader = SequenceLoader(tmp_path, library.prepare)
    return FramePipeline(Show(flat_stage(3, name="first")), FixedClock(60.0), loader=loader)


def step_until(pipeline: FramePipeline, done, limit: float = 5.0):
    deadline = time.monotonic() + limit
    state = pipeline.step()
    while not done(state) and time.monotonic() < deadline:
        time.sleep(0.002)
        state = pipeline.step()
    return state


def test_frame_zero_is_time_zero_and_unadvanced() -> None:
    pipeline = FramePipeline(Show(flat_stage()), FixedClock(30.0))
    first, second = pipeline.step(), pipeline.step()
    assert (first.time, first.conductor.index, first.conductor.progress) == (0.0, 0, 0.0)
    assert second.time == pytest.approx(1 / 30)


class Heard:
    def __init__(self) -> None:
        self.intervals: list[tuple[float, float]] = []

    def listen(self, start: float, stop: float) -> SoundFeatures:
        self.intervals.append((start, stop))
        return SoundFeatures(level=1.0)

    def close(self) -> None:
        pass


def test_each_frame_hears_the_sound_since_the_last() -> None:
    heard = Heard()
    pipeline = FramePipeline(Show(flat_stage()), FixedClock(10.0), heard)
    states = [pipeline.step() for _ in range(3)]
    assert heard.intervals == [(0.0, 0.0), (0.0, 0.1), (0.1, 0.2)]
    assert states[0].sound.level == 1.0 and states[0].values.speed > states[0].settings.speed


def test_sequence_then_next_in_one_batch_lands_on_the_new_sequences_keyframe_1(tmp_path: Path) -> None:
    library = Library({"b": 4})
    pipeline = pipeline_with(library, tmp_path)
    pipeline.commands.put(Command("sequence", ("b",)))
    pipeline.commands.put(Command("next", (True,)))
    pipeline.commands.put(Command("set", ("hue", 30.0)))
    state = step_until(pipeline, lambda s: s.stage.name == "b" and s.conductor.target is not None)
    assert (state.stage.name, state.conductor.index, state.conductor.target) == ("b", 0, 1)
    assert state.settings.hue == 30.0


def test_the_current_sequence_plays_while_the_next_loads(tmp_path: Path) -> None:
    library = Library({"b": 4})
    library.gate.clear()
    pipeline = pipeline_with(library, tmp_path)
    pipeline.commands.put(Command("sequence", ("b",)))
    pipeline.commands.put(Command("set", ("hue", 45.0)))
    states = [pipeline.step() for _ in range(30)]
    assert all(state.stage.name == "first" for state in states) and pipeline.switching
    assert states[-1].settings.hue == 45.0  # parameters do not wait for the switch
    library.gate.set()
    assert step_until(pipeline, lambda s: s.stage.name == "b").stage.count == 4


def test_a_burst_of_requests_loads_at_most_the_running_one_and_the_last(tmp_path: Path) -> None:
    library = Library({"b": 4, "c": 2})
    library.gate.clear()
    pipeline = pipeline_with(library, tmp_path)
    for index in range(60):
        pipeline.commands.put(Command("sequence", ("b" if index % 2 else "c",)))
    pipeline.step()
    library.gate.set()
    state = step_until(pipeline, lambda s: s.stage.name == "b")
    assert state.stage.name == "b" and len(library.loads) <= 2


def test_a_bad_or_absurd_request_leaves_the_show_playing(tmp_path: Path) -> None:
    library = Library({"good": 2})
    pipeline = pipeline_with(library, tmp_path)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{}")
    for name in ("x" * 255, "../etc", "broken", "é" * 200, "nothing"):
        pipeline.commands.put(Command("sequence", (name,)))
        pipeline.commands.put(Command("next", (True,)))
        step_until(pipeline, lambda s: not pipeline.switching)
    state = pipeline.step()
    assert state.stage.name == "first" and state.conductor.transition >= 1


def test_asking_for_the_sequence_on_show_loads_nothing(tmp_path: Path) -> None:
    library = Library({"first": 3})
    pipeline = pipeline_with(library, tmp_path)
    for _ in range(60):
        pipeline.commands.put(Command("sequence", ("first",)))
    pipeline.step()
    assert not pipeline.switching and library.loads == []
