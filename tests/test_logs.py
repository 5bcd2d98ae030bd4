"""``--log-file`` on a real full disk: said once on stderr, the show goes on, and the return of space is said."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from installation.cli import _log_to_file
from tests.media import fill, small_disk


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[tuple[Path, logging.Logger]]:
    """The command's ``--log-file`` handler on a 64 KB tmpfs, and a logger whose records reach it."""
    with small_disk(tmp_path / "disk", "64k") as disk:
        path = disk / "show.log"
        handler = _log_to_file(path)
        logger = logging.getLogger("tests.full-disk")
        logger.setLevel(logging.INFO)
        try:
            yield path, logger
        finally:
            logging.getLogger().removeHandler(handler)
            handler.close()


def test_a_full_disk_is_said_once_and_so_is_the_space_coming_back(
    capsys: pytest.CaptureFixture[str], log_file: tuple[Path, logging.Logger]
) -> None:
    """Issue 22, item 6: every record printed a 30-line "Logging error" traceback."""
    path, logger = log_file
    logger.info("before")
    fill(path.parent, leave=0)
    for number in range(40):  # well past the file's write buffer: writes reach the full disk
        logger.info("record %d %s", number, "x" * 500)
    (path.parent / "filler").unlink()
    logger.info("space again")
    assert capsys.readouterr().err == (
        f"metamorph: the log file {path} cannot be written (No space left on device); "
        "the show goes on and logs here until it can.\n"
        f"metamorph: the log file {path} is written again.\n"
    )
    lines = path.read_text().splitlines()
    assert lines[0].endswith("INFO tests.full-disk: before") and lines[-1].endswith("INFO tests.full-disk: space again")
