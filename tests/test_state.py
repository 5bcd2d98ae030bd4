"""The saved show state: whatever the file holds the show starts, and failed saves leave nothing behind."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from installation.state import SavedState, load_state, save_state
from tests.helpers import metamorph

ABSURD = {
    "infinite keyframe": (
        '{"sequence": "alps", "keyframe": 1e400, "parameters": {}}',
        "keyframe inf is not a whole number from 0",
    ),
    "NaN keyframe": (
        '{"sequence": "alps", "keyframe": NaN, "parameters": {}}',
        "keyframe nan is not a whole number from 0",
    ),
    "fractional keyframe": (
        '{"sequence": "alps", "keyframe": 2.5, "parameters": {}}',
        "keyframe 2.5 is not a whole number from 0",
    ),
    "negative keyframe": (
        '{"sequence": "alps", "keyframe": -3, "parameters": {}}',
        "keyframe -3 is not a whole number from 0",
    ),
    "keyframe true": (
        '{"sequence": "alps", "keyframe": true, "parameters": {}}',
        "keyframe True is not a whole number from 0",
    ),
    "infinite parameter": (
        '{"sequence": "alps", "keyframe": 1, "parameters": {"hue": 1e400}}',
        "parameters {'hue': inf} are not finite numbers by name",
    ),
    "integer beyond a float": (
        '{"sequence": "alps", "keyframe": 1, "parameters": {"hue": 1' + "0" * 400 + "}}",
        "are not finite numbers by name",
    ),
    "parameters a list": (
        '{"sequence": "alps", "keyframe": 1, "parameters": [1, 2]}',
        "parameters [1, 2] are not finite numbers by name",
    ),
    "300-character sequence": (
        '{"sequence": "' + "s" * 300 + '", "keyframe": 1, "parameters": {}}',
        "is not a folder name",
    ),
    "sequence with a slash": (
        '{"sequence": "../elsewhere", "keyframe": 1, "parameters": {}}',
        "sequence '../elsewhere' is not a folder name",
    ),
    "sequence a number": ('{"sequence": 7, "keyframe": 1, "parameters": {}}', "sequence 7 is not a folder name"),
    "not an object": ("[1, 2, 3]", "not a JSON object but [1, 2, 3]"),
    "nested 100k deep": ("[" * 100_000 + "]" * 100_000, "maximum recursion depth exceeded"),
    "not UTF-8": (b"\xff\xfe{}", "can't decode byte 0xff"),
}


@pytest.mark.parametrize("case", sorted(ABSURD))
def test_an_absurd_state_is_ignored_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    content, reason = ABSURD[case]
    path = tmp_path / "state.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with caplog.at_level(logging.WARNING, logger="installation.state"):
        assert load_state(path) is None
    [record] = caplog.records
    assert record.getMessage().startswith(f"state: ignoring {path} (") and reason in record.getMessage()
    assert record.getMessage().endswith("); starting fresh") and "\n" not in record.getMessage()


def test_a_sound_state_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    save_state(path, SavedState("alps", 2, {"hue": 33.0, "speed": 1}))
    assert load_state(path) == SavedState("alps", 2, {"hue": 33.0, "speed": 1.0})


def test_failed_saves_leave_no_temporary_files(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "state.json"
    path.mkdir()  # a folder where the file should be: every save fails at the rename
    with caplog.at_level(logging.WARNING, logger="installation.state"):
        for _ in range(5):
            save_state(path, SavedState("alps", 1, {}))
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
    assert len(caplog.records) == 5 and "state: cannot save" in caplog.records[0].getMessage()


def test_the_show_starts_over_an_infinite_keyframe(sequence_folder: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"sequence": "alps", "keyframe": 1e400, "parameters": {}}')
    result = metamorph(
        "play",
        str(sequence_folder),
        "--frames",
        "2",
        "--window",
        "160x96",
        "--audio",
        "none",
        "--osc-port",
        "0",
        "--state",
        str(state),
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "keyframe inf is not a whole number from 0" in result.stderr


def test_an_outputs_corner_pin_comes_back_whatever_sequence_was_playing(sequence_folder: Path, tmp_path: Path) -> None:
    """A projector's keystone belongs to the machine, not to a sequence: a restart after the show
    moved to another sequence keeps it (the look's own values do not carry over to another one)."""
    from installation.app import Player
    from installation.gallery import GalleryOptions
    from installation.render.platform import choose
    from tests.helpers import quiet_options

    path = tmp_path / "state.json"
    save_state(path, SavedState("another", 0, {"corner_x0": 0.2, "blend_gamma": 1.8, "hue": 40.0}))
    choose(offscreen=True)
    player = Player(quiet_options(sequence_folder, 1, gallery=GalleryOptions(state_file=path, watchdog=None)))
    player.run()
    settings = player.state.settings
    assert (settings.corner_x0, settings.blend_gamma, settings.hue) == (0.2, 1.8, 0.0)
