"""Visitor options that would make every wish fail are refused before the show starts."""

from __future__ import annotations

import socket

import pytest

from installation.errors import UserError
from installation.visitors.options import VisitorOptions
from tests.helpers import QUIET_PLAY, metamorph


@pytest.mark.parametrize(
    ("options", "sentence"),
    [
        (
            {"backend": "diffusers"},
            "--visitor-backend diffusers needs a model: add --visitor-model (e.g. stabilityai/sd-turbo).",
        ),
        (
            {"backend": "diffusers", "model": "m", "size": (100, 60)},
            "--visitor-size 100x60 is not a multiple of 8, which diffusion models need; use --visitor-size 96x56.",
        ),
        (
            {"backend": "procedural", "steps": 4, "strength": 0.5, "captures": 3},
            "--visitor-captures 3 is more than the 2 steps a wish runs (--visitor-steps x --visitor-strength); "
            "lower --visitor-captures or raise --visitor-steps.",
        ),
    ],
)
def test_options_that_would_fail_every_wish_are_refused(options: dict, sentence: str) -> None:
    with pytest.raises(UserError) as refused:
        VisitorOptions(enabled=True, **options)
    assert str(refused.value) == sentence


def test_the_command_refuses_them_and_a_port_in_use_in_one_sentence(sequence_folder) -> None:
    said = metamorph(
        "play", str(sequence_folder), *QUIET_PLAY, "--frames", "1", "--visitors", "--visitor-backend", "diffusers"
    )
    assert said.returncode == 2 and "Traceback" not in said.stderr
    assert said.stderr.strip().endswith("needs a model: add --visitor-model (e.g. stabilityai/sd-turbo).")
    with socket.create_server(("0.0.0.0", 0)) as taken:
        port = taken.getsockname()[1]
        said = metamorph(
            "play", str(sequence_folder), *QUIET_PLAY, "--frames", "1", "--visitors", "--visitor-port", str(port)
        )
    assert said.returncode == 2 and "Traceback" not in said.stderr
    assert f"The HTTP port {port} cannot be opened" in said.stderr
    assert said.stderr.strip().endswith("choose another with --visitor-port (1..65535).")


def test_every_option_of_play_is_parsed_into_a_place_of_its_own() -> None:
    """Two options with one destination silently take each other's value (--visitor-timeout was
    read as the wall's --wall-timeout)."""
    from collections import Counter

    from installation.cli.play import play_parser

    play = play_parser()
    places = Counter(action.dest for action in play._actions if action.option_strings)
    assert [dest for dest, count in places.items() if count > 1] == []
    parsed = play.parse_args(["--visitor-timeout", "9", "--wall-timeout", "4", "--visitor-hold", "30", "--hold", "2"])
    assert (parsed.visitor_timeout, parsed.visitor_hold) == (9.0, 30.0)


def test_a_visitor_folder_that_is_a_file_is_one_sentence(sequence_folder, tmp_path) -> None:
    taken = tmp_path / "visitors"
    taken.write_text("not a folder")
    said = metamorph(
        "play", str(sequence_folder), *QUIET_PLAY, "--frames", "1", "--visitors", "--visitor-folder", str(taken)
    )
    assert said.returncode == 2 and "Traceback" not in said.stderr
    assert said.stderr.strip() == (
        f"metamorph: error: The visitor folder {taken} cannot be made (File exists); give --visitor-folder a folder "
        "this user may write to."
    )
    assert taken.read_text() == "not a folder"
