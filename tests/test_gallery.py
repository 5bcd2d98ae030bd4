"""Gallery operation: opening hours, playlists, /sequence, saved state, heartbeat, watchdog, logs."""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from datetime import time as clock
from pathlib import Path

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from installation.app import Player
from installation.errors import UserError
from installation.gallery import GalleryOptions
from installation.logs import RateLimit
from installation.options import PlayOptions, ShowOptions
from installation.render.window import GLError
from installation.scene.commands import Command
from installation.scene.playlist import Playlist, sequence_named
from installation.scene.schedule import Schedule, parse_schedule
from installation.state import SavedState, load_state, save_state
from installation.watchdog import Watchdog
from tests.helpers import metamorph

SIZE = (160, 96)


def options(
    sequence: Path, frames: int = 3, osc_port: int | None = None, screenshot: Path | None = None, **gallery
) -> PlayOptions:
    show = ShowOptions(sequence, parameters={"hold": 0.2, "duration": 0.3})
    gallery.setdefault("watchdog", None)
    return PlayOptions(
        show=show,
        gallery=GalleryOptions(**gallery),
        window=SIZE,
        vsync=False,
        fixed_step=60.0,
        audio="none",
        osc_port=osc_port,
        http_port=None,
        frames=frames,
        screenshot=screenshot,
    )


def names_played(player: Player) -> list[str]:
    """Run the player, noting each sequence it shows (in order, once per switch)."""
    seen: list[str] = []
    step = player.pipeline.step

    def noting():
        state = step()
        if not seen or seen[-1] != state.stage.name:
            seen.append(state.stage.name)
        return state

    player.pipeline.step = noting
    player.run()
    return seen


@pytest.fixture
def library(sequence_folder: Path, tmp_path: Path) -> Path:
    """A folder of two sequences, and something that is not one."""
    folder = tmp_path / "library"
    shutil.copytree(sequence_folder, folder / "alps")
    shutil.copytree(sequence_folder, folder / "valley")
    (folder / "notes").mkdir()
    return folder


def test_opening_hours_including_overnight() -> None:
    day = parse_schedule("10:00-18:00")
    assert day.is_open(clock(10, 0)) and not day.is_open(clock(18, 0)) and not day.is_open(clock(2, 0))
    night = parse_schedule("18:00-02:00")
    assert night.is_open(clock(23, 59)) and night.is_open(clock(1, 0)) and not night.is_open(clock(12, 0))
    for bad in ("10-18", "25:00-02:00", "10:00-10:00"):
        with pytest.raises(UserError, match="is not a daily window; write it as HH:MM-HH:MM"):
            parse_schedule(bad)


@pytest.mark.parametrize("look", ["black", "dim"])
def test_outside_opening_hours_the_screen_is_black_or_dim(sequence_folder: Path, tmp_path: Path, look: str) -> None:
    now = time.localtime()
    closed = Schedule(clock((now.tm_hour + 2) % 24, 0), clock((now.tm_hour + 3) % 24, 0))
    shot = tmp_path / "closed.png"
    Player(options(sequence_folder, schedule=closed, closed=look, screenshot=shot)).run()
    from PIL import Image

    mean = np.asarray(Image.open(shot)).mean()
    assert (mean < 1) if look == "black" else (5 < mean < 40)


def test_a_playlist_plays_its_sequences_in_turn(library: Path) -> None:
    player = Player(options(library, frames=300))
    assert [path.name for path in player.playlist.items] == ["alps", "valley"]
    assert names_played(player)[:3] == ["alps", "valley", "alps"]  # one pass (3 x 0.5 s = 90 frames) each


def test_a_broken_first_or_saved_item_is_skipped(library: Path, tmp_path: Path) -> None:
    shutil.copytree(library / "alps", library / "aaa-broken")
    (library / "aaa-broken" / "001.png").write_bytes(b"not a png")
    state = tmp_path / "state.json"
    save_state(state, SavedState("aaa-broken", 2, {}))
    player = Player(options(library, frames=2, state_file=state))
    assert player.pipeline.show.name == "alps"
    player.run()
    for item in ("alps", "valley"):
        (library / item / "manifest.json").write_text("{")
    with pytest.raises(UserError, match=r"^No sequence in the playlist .* can be played; the first problem: "):
        Player(options(library))


def test_a_broken_item_at_a_turn_is_skipped_at_once(library: Path) -> None:
    shutil.copytree(library / "alps", library / "b-broken")
    (library / "b-broken" / "001.png").write_bytes(b"not a png")
    player = Player(options(library, frames=150))  # one pass is 90 frames
    assert names_played(player) == ["alps", "valley"]  # not a second pass of alps while b-broken fails


def test_sequences_added_while_playing_join_and_a_vanished_folder_does_not_flood_the_log(library: Path, caplog) -> None:
    player = Player(options(library, frames=600))
    shutil.copytree(library / "alps", library / "zzz-new")
    step = player.pipeline.step
    frames = [0]

    def vanish_after_three_passes():
        frames[0] += 1
        if frames[0] == 290:
            shutil.rmtree(library)
        return step()

    player.pipeline.step = vanish_after_three_passes
    limit = RateLimit()  # as the command's log handlers have; the capture handler outlives this test
    caplog.handler.addFilter(limit)
    try:
        with caplog.at_level(logging.WARNING):
            assert names_played(player)[:3] == ["alps", "valley", "zzz-new"]
    finally:
        caplog.handler.removeFilter(limit)
    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert 1 <= len(warnings) <= 10, [record.getMessage() for record in warnings]
    assert player.frames == 600 and player.state.stage.count == 3  # the show goes on from memory


def test_shuffle_and_an_empty_folder(library: Path, tmp_path: Path) -> None:
    assert sorted(p.name for p in Playlist(library, shuffle=True, seed=4).items) == ["alps", "valley"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no keyframe sequences"):
        Playlist(tmp_path / "empty")


def test_sequence_names_cannot_leave_the_folder(library: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret"
    shutil.copytree(library / "alps", outside)
    (library / "link").symlink_to(outside)
    assert sequence_named(library, "alps") == library / "alps"
    for name in ("..", "../secret", "/etc", "link", ".hidden", "notes", "", "a\\b"):
        assert sequence_named(library, name) is None, name


def test_osc_switches_sequence_only_inside_the_library(library: Path) -> None:
    player = Player(options(library, frames=1000, osc_port=0))
    client = SimpleUDPClient("127.0.0.1", player.osc.port)
    client.send_message("/sequence", "../secret")
    client.send_message("/sequence", "x" * 256)
    for _ in range(60):
        client.send_message("/sequence", "valley")
    step = player.pipeline.step

    def until_valley():
        state = step()
        if state.stage.name == "valley":
            player.running = False
        return state

    player.pipeline.step = until_valley
    player.run()
    assert player.state.stage.name == "valley" and player.frames < 1000
    assert player.osc.counts["ignored"] == 1  # the 256-character name; ../secret fails in the loader


def test_state_is_saved_and_restored(sequence_folder: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = Player(options(sequence_folder, frames=2, state_file=state))
    first.pipeline.commands.put(Command("goto", (2,)))
    first.pipeline.commands.put(Command("set", ("hue", 33.0)))
    first.run()
    saved = load_state(state)
    assert saved == SavedState("alps", 2, saved.parameters) and saved.parameters["hue"] == 33.0
    second = Player(options(sequence_folder, frames=1, state_file=state))
    show = second.pipeline.show
    assert show.conductor.index == 2 and show.parameters.target("hue") == 33.0
    assert show.parameters.target("hold") == 0.2  # this run's options win
    second.run()


def test_a_damaged_state_file_starts_fresh(sequence_folder: Path, tmp_path: Path, caplog) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"sequence": "alps", "keyframe": ')
    with caplog.at_level(logging.WARNING):
        player = Player(options(sequence_folder, frames=1, state_file=state))
    assert player.pipeline.show.conductor.index == 0 and "starting fresh" in caplog.text
    player.run()
    save_state(state, SavedState("elsewhere", 1, {}))
    assert Player(options(sequence_folder, frames=1, state_file=state)).pipeline.show.conductor.index == 0


def test_heartbeat_lines(sequence_folder: Path, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="installation.gallery"):
        Player(options(sequence_folder, frames=5, heartbeat=0.0)).run()
    beats = [r.getMessage() for r in caplog.records if r.getMessage().startswith("heartbeat:")]
    assert beats and " fps, " in beats[0] and " MB, alps keyframe 1/3" in beats[0]


def test_the_watchdog_ends_a_stalled_loop() -> None:
    exits: list[int] = []
    done = threading.Event()
    stalled = Watchdog(timeout=0.2, exit=lambda code: (exits.append(code), done.set()))
    assert done.wait(5.0) and exits == [3]
    stalled.stop()
    now = [0.0]
    calm = Watchdog(timeout=0.5, exit=exits.append, clock=lambda: now[0], watching=False)
    for _ in range(10):  # a frame every 1/8 s of its clock (exact in binary): never stalled
        now[0] += 0.125
        calm.beat()
        assert not calm.check()
    now[0] += 0.5
    assert not calm.check()  # 0.5 s without a frame: at the timeout, not past it
    now[0] += 0.01
    assert calm.check() and exits == [3, 3]


def test_a_lost_context_exits_with_code_4(sequence_folder: Path) -> None:
    player = Player(options(sequence_folder, frames=10))

    def lost(*args) -> None:
        raise GLError("context lost")

    player.renderer.draw = lost  # a real context cannot be lost on demand here
    with pytest.raises(SystemExit) as raised:
        player.run()
    assert raised.value.code == 4


def test_log_file_and_state_through_the_command_line(sequence_folder: Path, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "metamorph.log"
    state = tmp_path / "state.json"
    result = metamorph(
        "play",
        str(sequence_folder),
        "--frames",
        "3",
        "--window",
        "160x96",
        "--no-vsync",
        "--log-file",
        str(log),
        "--state",
        str(state),
        "--osc-port",
        "0",
        "--audio",
        "none",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(state.read_text())["sequence"] == "alps"
    assert log.exists()
