"""The wall through the real command: a follower that answers /status and takes no other command,
the test card on a tile, and the options' mistakes said in one sentence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.render.wall import WallLayout
from installation.scene.stage import load_stage
from installation.wall.card import card_picture, card_sequence
from tests.helpers import QUIET_PLAY, ask, free_port, metamorph, wait_for
from tests.wall.test_link import WALL, Leader, library  # noqa: F401 (a fixture)


def test_a_follower_answers_status_with_whom_it_follows_and_takes_no_command(library: Path) -> None:  # noqa: F811
    leader = Leader(library, "alps")
    leader.start()
    osc_port = free_port("udp")
    argv = [*QUIET_PLAY, "--osc-port", str(osc_port), "--osc-allow", "127.0.0.0/8", *WALL, "--tile", "1,0"]
    follower = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "installation",
            "play",
            str(library / "alps"),
            *argv,
            "--leader",
            f"127.0.0.1:{leader.port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status = wait_for(
            lambda: (answer := ask(osc_port, "/status")) and answer["wall"]["leader_frame"] is not None and answer,
            60,
            "the follower's /status with the leader's frame",
        )
        wall = status["wall"]
        assert wall["role"] == "follower" and wall["leader"] == f"127.0.0.1:{leader.port}"
        assert wall["tile"] == [1, 0] and wall["view"] == [176, 0, 160, 96]
        assert status["frame"] == wall["leader_frame"] and wall["lag_ms"] >= 0
        ask(osc_port, "/hue", 77)
        told = wait_for(
            lambda: (answer := ask(osc_port, "/status")) and answer["wall"]["commands_ignored"] >= 1 and answer,
            30,
            "the command counted as ignored",
        )
        assert told["parameters"]["hue"] != 77
    finally:
        follower.terminate()
        follower.wait(20)
        leader.stop()
    assert "takes no command but its own corner pin and gamma; send the rest to the leader" in follower.stderr.read()


def test_the_test_card_on_a_tile_is_its_part_of_the_whole_card(tmp_path: Path) -> None:
    shot = tmp_path / "tile.png"
    done = metamorph(
        "wall-test", "--wall", "3x1", "--tile", "2,0", "--bezel", "20", "--window", "160x90", "--frames", "2",
        "--screenshot", str(shot),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    layout = WallLayout((3, 1), (2, 0), (160, 90), 20)
    card = card_picture(layout)
    x = layout.view.rect[0]
    difference = np.abs(np.asarray(Image.open(shot)).astype(int) - card[:, x : x + 160]).max()
    assert difference <= 2
    assert card[:, x : x + 160].std() > 20  # a card, not a blank


def test_every_tile_of_a_wall_makes_the_same_card() -> None:
    def digest(layout: WallLayout) -> bytes:
        return load_stage(card_sequence(layout)).manifest_hash

    tiles = {digest(WallLayout((2, 2), (c, r), (320, 180), 12)) for r in range(2) for c in range(2)}
    assert len(tiles) == 1
    assert digest(WallLayout((2, 2), (0, 0), (320, 180), 16)) not in tiles  # another wall, another card


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--wall", "2x1", "--tile", "2,0"], "tile 2,0 is not on a 2x1 wall; check --wall, --tile and --overlap"),
        (["--wall", "2x1", "--overlap", "100", "--window", "160x96"], "more than half"),
        (["--lead", "--leader", "10.0.0.2"], "not allowed with argument"),
        (["--bezel", "10", "--overlap", "10"], "not allowed with argument"),
        (["--leader", "host:99999"], "is not HOST or HOST:PORT"),
        (["--wall", "0x0"], "is not a wall of 1 to 16 columns and rows"),
        (["--corners", "0,0,1,0,1,1,0,nan"], "is not 8 numbers"),
        (["--blend-gamma", "inf"], "is not a finite number from 1 to 3"),
        (["--wall-timeout", "-1"], "is not a finite number from 0.1 to 3600"),
    ],
)
def test_wall_mistakes_are_one_sentence(argv: list[str], said: str) -> None:
    done = metamorph("play", *QUIET_PLAY, "--frames", "1", "--window", "160x96", *argv)
    assert done.returncode == 2
    assert said in done.stderr and "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
