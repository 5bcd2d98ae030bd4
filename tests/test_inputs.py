"""Every file a user names is opened refusing what is not a regular file, with a size limit.

A FIFO given as ``--config``, ``--osc-map``, ``--preset`` or ``--log-file`` used to hang the
command forever without a word; each is now one sentence naming the option, the path and the fix.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from installation.cli import build_parser, main
from installation.errors import UserError
from installation.files import MIB, read_input
from tests.helpers import metamorph

INPUTS = {
    ("play", "--config"): ("config", []),
    ("play", "--osc-map"): ("OSC map", []),
    ("play", "--preset"): ("preset", []),
    ("play", "--control-key-file"): ("control key file", []),
    ("play", "--visitor-blocklist"): ("visitor block list", []),
    ("capture", "--preset"): ("preset", ["--out", "{folder}/out.mp4"]),
    ("touchosc", "--osc-map"): ("OSC map", ["--out", "{folder}/out.tosc"]),
}
"""Every file a command reads, with the name its messages give it and the other arguments it needs."""
OUTPUTS_AND_FOLDERS = {
    ("keyframes", "photo"),  # read_rgb refuses what is not a regular file
    ("keyframes", "--out"),
    ("play", "sequence"),
    ("play", "--log-file"),  # created when missing: see test_a_log_file_*
    ("play", "--screenshot"),
    ("wall-test", "--screenshot"),
    ("capture", "sequence"),
    ("capture", "--out"),
    ("capture", "--audio"),  # probe_audio refuses what is not a regular file
    ("concat", "parts"),
    ("concat", "--out"),
    ("presets", "sequence"),
    ("presets", "--sheet"),
    ("touchosc", "--out"),
    ("touchosc", "--preview"),
    ("play", "--visitor-folder"),  # made when missing: see tests/visitors/test_visitor_options.py
    ("visitors", "--qr"),
}


def path_options() -> set[tuple[str, str]]:
    """(command, option) of every option whose value is a path, read from the real parser."""
    (commands,) = (action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    return {
        (name, (action.option_strings or [action.dest])[0])
        for name, parser in commands.choices.items()
        for action in parser._actions
        if action.type is Path
    }


def test_every_path_option_is_known_as_an_input_or_not() -> None:
    """A new path option must be sorted here, so that an input cannot escape the rule unseen."""
    assert path_options() == (set(INPUTS) | OUTPUTS_AND_FOLDERS) - {("play", "--preset"), ("capture", "--preset")}


def fifo(folder: Path) -> Path:
    os.mkfifo(folder / "input.toml")
    return folder / "input.toml"


@pytest.mark.parametrize(
    "argv, what, option",
    [
        (["play", "--config", "{fifo}"], "config", "--config"),
        (["play", "--osc-map", "{fifo}"], "OSC map", "--osc-map"),
        (["play", "--preset", "{fifo}"], "preset", "--preset"),
        (["play", "--log-file", "{fifo}"], "log file", "--log-file"),
        (["touchosc", "--out", "{folder}/t.tosc", "--osc-map", "{fifo}"], "OSC map", "--osc-map"),
        (["capture", "--out", "{folder}/v.mp4", "--preset", "{fifo}"], "preset", "--preset"),
    ],
)
def test_a_fifo_as_a_file_input_is_refused_at_once(tmp_path: Path, argv: list[str], what: str, option: str) -> None:
    """Issue 22, item 8: each of these hung forever (a timeout of the helper fails the test)."""
    path = fifo(tmp_path)
    result = metamorph(*(arg.format(fifo=path, folder=tmp_path) for arg in argv), timeout=60)
    assert result.returncode == 2
    assert result.stderr == (
        f"metamorph: error: The {what} {path} is a FIFO, not a regular file; give {option} the path of a file.\n"
    )


def make_bad_path(folder: Path, kind: str, name: str) -> tuple[Path, str]:
    """A path of ``kind`` named ``name`` in ``folder``, and the reason a refusal gives for it."""
    path = folder / f"{name}.toml"
    if kind == "FIFO":
        os.mkfifo(path)
        return path, "is a FIFO, not a regular file"
    if kind == "folder":
        path.mkdir()
        return path, "is a folder, not a regular file"
    if kind == "dangling link":
        path.symlink_to(folder / "gone.toml")
        return path, f"cannot be read (it is a link to {folder / 'gone.toml'}, which does not exist)"
    path = folder / "no-such-folder" / path.name
    return path, f"cannot be read (the folder {path.parent} does not exist)"


FIX = {"is": "give {option} the path of a file.", "cannot": "give {option} a file that can be read."}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(sorted(INPUTS)),
    st.sampled_from(["FIFO", "folder", "dangling link", "missing folder"]),
    st.text("abcxyz-_.0123456789é ", min_size=1, max_size=12).filter(lambda name: not name.startswith(".")),
)
def test_any_unusable_path_for_any_file_input_is_one_sentence(
    capsys: pytest.CaptureFixture[str], command_option: tuple[str, str], kind: str, name: str
) -> None:
    command, option = command_option
    what, extra = INPUTS[command_option]
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        path, reason = make_bad_path(folder, kind, name)
        capsys.readouterr()
        code = main([command, *(arg.format(folder=folder) for arg in extra), option, str(path)])
        err = capsys.readouterr().err
    fix = FIX[reason.split()[0]].format(option=option)
    assert (code, err) == (2, f"metamorph: error: The {what} {path} {reason}; {fix}\n")


@pytest.mark.parametrize("kind", ["FIFO", "folder"])
def test_a_log_file_that_is_not_a_regular_file_is_refused(capsys, tmp_path: Path, kind: str) -> None:
    path, reason = make_bad_path(tmp_path, kind, "show")
    assert main(["play", "--log-file", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"metamorph: error: The log file {path} {reason}; give --log-file the path of a file.\n"
    )


def test_a_file_past_its_limit_is_refused_and_one_within_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_bytes(b"#" * (MIB + 1))
    with pytest.raises(UserError) as raised:
        read_input(path, "config", "--config", MIB)
    assert str(raised.value) == (
        f"The config {path} is 1.0 MB, more than the 1 MB a config may hold; give --config the config itself."
    )
    path.write_bytes(b"#" * MIB)
    assert len(read_input(path, "config", "--config", MIB)) == MIB


def test_a_config_past_its_limit_is_one_sentence(capsys, tmp_path: Path) -> None:
    config = tmp_path / "show.toml"
    config.write_bytes(b"# a comment\n" * 100_000)
    assert main(["play", "--config", str(config)]) == 2
    assert capsys.readouterr().err == (
        f"metamorph: error: The config {config} is 1.1 MB, more than the 1 MB a config may hold; "
        "give --config the config itself.\n"
    )


OUTPUT_FILES = {
    ("play", "--screenshot"): ["--frames", "1", "--window", "32x32", "--audio", "none", "--osc-port", "0"],
    ("wall-test", "--screenshot"): ["--frames", "1", "--window", "32x32"],
    ("touchosc", "--out"): [],
    ("touchosc", "--preview"): ["--out", "{folder}/made.tosc"],
    ("presets", "--sheet"): [],
    ("visitors", "--qr"): [],
}
"""Outputs a command writes as one file, with the other arguments it needs."""
SUFFIXES = {"--screenshot": ".png", "--out": ".tosc", "--preview": ".png", "--sheet": ".jpg", "--qr": ".png"}
REPLACED = {"--screenshot"}
"""Outputs replaced by a run that names them: a show's last frame, taken again at each run (as
``scripts/demo`` does); they are still never written into a FIFO, a folder or a link."""


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(sorted(OUTPUT_FILES)),
    st.sampled_from(["FIFO", "folder", "dangling link", "missing folder", "a finished file"]),
    st.text("abcxyz-_.0123456789é ", min_size=1, max_size=12).filter(lambda name: not name.startswith(".")),
)
def test_no_output_replaces_or_writes_into_what_is_there_and_says_so_in_one_sentence(
    capsys: pytest.CaptureFixture[str], command_option: tuple[str, str], kind: str, name: str
) -> None:
    """The rule for outputs: a FIFO, a folder, a link to nothing, a missing folder or another run's
    finished file is never written into or replaced (without --force): one sentence, exit 2, and
    the folder holds what it held, no partial left behind."""
    command, option = command_option
    assume(not (kind == "a finished file" and option in REPLACED))
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        path = folder / f"{name}{SUFFIXES[option]}"
        if kind == "FIFO":
            os.mkfifo(path)
        elif kind == "folder":
            path.mkdir()
        elif kind == "dangling link":
            path.symlink_to(folder / "gone.png")
        elif kind == "missing folder":
            path = folder / "no-such-folder" / path.name
        else:
            path.write_bytes(b"another run's result")
        before = sorted(folder.rglob("*"))
        capsys.readouterr()
        extra = [arg.format(folder=folder) for arg in OUTPUT_FILES[command_option]]
        code = main([command, *extra, option, str(path)])
        err = capsys.readouterr().err
        after = sorted(folder.rglob("*"))
        assert code == 2 and err.startswith("metamorph: error: ") and err.count("\n") == 1, err
        assert str(path) in err
        assert after == before  # nothing written beside it either: no partial, no half file
        if kind == "a finished file":
            assert path.read_bytes() == b"another run's result"
