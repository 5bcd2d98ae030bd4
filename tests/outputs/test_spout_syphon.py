"""Spout and Syphon cannot run on these machines (Linux): what they say when they cannot."""

from __future__ import annotations

import sys

import pytest

from installation.errors import UserError
from installation.outputs.spout import open_spout
from installation.outputs.syphon import open_syphon
from tests.helpers import QUIET_PLAY, metamorph


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="says why Spout and Syphon are missing on Linux")
def test_on_linux_both_say_which_os_they_need() -> None:
    with pytest.raises(UserError) as spout:
        open_spout("metamorph")
    assert str(spout.value) == "Spout exists on Windows only, not on linux; use --ndi metamorph here."
    with pytest.raises(UserError) as syphon:
        open_syphon("metamorph")
    assert str(syphon.value) == "Syphon exists on macOS only, not on linux; use --ndi metamorph here."


def test_without_their_bindings_both_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "SpoutGL", None)
    monkeypatch.setitem(sys.modules, "syphon", None)
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(UserError, match=r"^Spout needs the SpoutGL binding, .*: run pip install SpoutGL\.$"):
        open_spout("metamorph")
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(
        UserError, match=r"^Syphon needs the syphon-python binding, .*: run pip install syphon-python\.$"
    ):
        open_syphon("metamorph")


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="says why Spout and Syphon are missing on Linux")
@pytest.mark.parametrize(
    ("option", "said"),
    [
        ("--spout", "Spout exists on Windows only, not on linux"),
        ("--syphon", "Syphon exists on macOS only, not on linux"),
    ],
)
def test_play_with_spout_or_syphon_here_says_which_os_it_needs(sequence_folder, option: str, said: str) -> None:
    done = metamorph("play", str(sequence_folder), *QUIET_PLAY, "--frames", "1", "--window", "64x36", option, "show")
    assert done.returncode == 2 and f"{said}; use --ndi show here." in done.stderr
    assert "Traceback" not in done.stderr
