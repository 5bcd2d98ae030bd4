"""The show's glide into a wish and back, on a real pipeline, loader and playlist (no processes):
the wish is held while the playlist waits, then the show returns to the sequence it left and the
playlist goes on from there."""

from __future__ import annotations

import shutil
from collections import deque
from pathlib import Path

from installation.gallery import Gallery, GalleryOptions
from installation.options import ShowOptions
from installation.scene.clock import FixedClock
from installation.scene.loader import SequenceLoader
from installation.scene.pipeline import FramePipeline
from installation.scene.playlist import Playlist
from installation.scene.show import FrameState, Show
from installation.visitors.messages import Ready
from installation.visitors.show import Visits
from tests.helpers import wait_for


class Run:
    """A show of the playlist ``a``, ``b``, stepped frame by frame with its chores."""

    def __init__(self, library: Path, hold: float) -> None:
        options = ShowOptions(library)
        self.pipeline = FramePipeline(Show(options.prepare(library / "a")), FixedClock(60.0))
        self.pipeline.show.parameters.set("speed", 4.0, immediate=True)  # short passes, a short test
        self.pipeline.loader = SequenceLoader(library, options.prepare)
        self.ready: deque[Ready] = deque()
        self.visits = Visits(self.ready, self.pipeline, hold)
        gallery_options = GalleryOptions(state_file=None, watchdog=None)
        self.gallery = Gallery(gallery_options, self.pipeline, Playlist(library), held=lambda: self.visits.holding)
        self.state = self.step()

    def step(self) -> FrameState:
        self.state = self.pipeline.step()
        self.visits.after_frame(self.state)
        self.gallery.after_frame(self.state, 1 / 60)
        return self.state

    def until(self, name: str, seconds: float) -> float:
        """Step until ``name`` plays (the loader works on its own thread); the show time then."""
        wait_for(lambda: self.step().stage.name == name, 30, f"{name} on screen")
        assert self.state.time < seconds, f"{name} came at {self.state.time:.1f} s, not before {seconds:.1f} s"
        return self.state.time

    def steps_for(self, seconds: float) -> set[str]:
        """The sequences shown over the next ``seconds`` of show time."""
        end, shown = self.state.time + seconds, set()
        while self.state.time < end:
            shown.add(self.step().stage.name)
        return shown


def test_a_wish_is_held_while_the_playlist_waits_then_the_show_goes_back_and_on(
    sequence_folder: Path, tmp_path: Path
) -> None:
    library = tmp_path / "playlist"
    for name in ("a", "b"):
        shutil.copytree(sequence_folder, library / name)
    wish = tmp_path / "visitors" / "wish-20261206-120000-1"
    shutil.copytree(sequence_folder, wish)
    run = Run(library, hold=0.0)
    one_pass = run.pipeline.show.pass_seconds()
    run.visits.hold = hold = one_pass * 1.5  # longer than a pass: the playlist would have moved on
    run.steps_for(1.0)
    run.ready.append(Ready(wish, 1, "a flooded cathedral"))
    arrived = run.until(wish.name, run.state.time + 10)
    assert run.visits.holding and run.visits.on_screen
    assert run.steps_for(hold - 0.5) == {wish.name}  # held, the playlist waiting
    back = run.until("a", arrived + hold + 10)  # the sequence the show left, not the playlist's next
    assert not run.visits.holding and back >= arrived + hold
    run.until("b", back + one_pass + 10)  # and the playlist goes on from there
