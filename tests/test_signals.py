"""A service manager's stop: SIGTERM or SIGHUP ends play and capture within 2 s, outputs finished."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from installation.logs import RateLimit

STOP_WITHIN = 2.0


def start(*argv: str) -> subprocess.Popen[str]:
    environment = dict(os.environ, SDL_VIDEODRIVER="offscreen")
    return subprocess.Popen(
        [sys.executable, "-m", "installation", *argv], stderr=subprocess.PIPE, text=True, env=environment
    )


def stop_and_time(process: subprocess.Popen[str], ready, number: int) -> tuple[int, float, str]:
    deadline = time.monotonic() + 60
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, process.stderr.read() if process.stderr else ""
    begin = time.monotonic()
    process.send_signal(number)
    try:
        code = process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return code, time.monotonic() - begin, process.stderr.read() if process.stderr else ""


@pytest.mark.slow
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_play_offscreen_stops_cleanly(sequence_folder: Path, tmp_path: Path, number: int) -> None:
    state, log = tmp_path / "state.json", tmp_path / "play.log"
    process = start(
        "play",
        str(sequence_folder),
        "--window",
        "160x96",
        "--audio",
        "none",
        "--osc-port",
        "0",
        "--state",
        str(state),
        "--heartbeat",
        "1",
        "--log-file",
        str(log),
    )
    beating = lambda: log.exists() and "heartbeat" in log.read_text()  # noqa: E731
    code, seconds, errors = stop_and_time(process, beating, number)
    assert code == 0 and seconds < STOP_WITHIN, errors
    assert "Traceback" not in errors and state.exists()  # saved on the way out (the first timed save is at 5 s)


@pytest.mark.slow
def test_capture_stops_cleanly_with_a_playable_video(sequence_folder: Path, tmp_path: Path) -> None:
    from tests.media import decoded_frames

    out = tmp_path / "long.mp4"
    process = start(
        "capture", str(sequence_folder), "--out", str(out), "--size", "160x96", "--fps", "30", "--seconds", "600"
    )
    growing = lambda: any(path.stat().st_size > 20_000 for path in tmp_path.iterdir())  # noqa: E731
    code, seconds, errors = stop_and_time(process, growing, signal.SIGTERM)
    assert code == 143 and seconds < STOP_WITHIN, errors  # not 0: a script must not take it as done
    assert "stopped by SIGTERM; what was written is kept." in errors and "Traceback" not in errors
    assert [path.name for path in tmp_path.iterdir()] == ["long.mp4.partial"]  # never under the final name
    assert decoded_frames(tmp_path / "long.mp4.partial") > 10


@pytest.mark.slow
def test_a_stop_during_a_long_fast_forward_ends_at_once_and_writes_nothing(
    sequence_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "late.mp4"
    process = start(
        "capture",
        str(sequence_folder),
        "--out",
        str(out),
        "--size",
        "160x96",
        "--fps",
        "60",
        "--seconds",
        "80000",
        "--frames",
        "4000000:4000001",
        "--quiet",
    )
    code, seconds, errors = stop_and_time(process, lambda: time.sleep(1.5) is None, signal.SIGTERM)
    assert code == 143 and seconds < STOP_WITHIN, errors
    assert list(tmp_path.iterdir()) == []  # no frame was drawn, so no file was opened


def test_other_commands_keep_the_default_action(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "installation", "keyframes", "--demo", "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, METAMORPH_KEYFRAMES=str(tmp_path)),
    )
    code, seconds, _ = stop_and_time(process, lambda: time.sleep(1.0) is None, signal.SIGTERM)
    assert code == -signal.SIGTERM and seconds < STOP_WITHIN


def test_a_state_path_that_is_not_a_regular_file_is_refused(sequence_folder: Path, tmp_path: Path) -> None:
    from tests.helpers import metamorph

    fifo = tmp_path / "state.fifo"
    os.mkfifo(fifo)
    for path in (fifo, tmp_path):
        result = metamorph(
            "play",
            str(sequence_folder),
            "--frames",
            "1",
            "--window",
            "160x96",
            "--audio",
            "none",
            "--osc-port",
            "0",
            "--state",
            str(path),
            env={"SDL_VIDEODRIVER": "offscreen"},
            timeout=30,
        )
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert (
            f"The state file {path} is not a regular file; give a file path with --state, or --state none."
            in result.stderr
        )
    assert fifo.is_fifo()  # not replaced by a saved state


def test_a_repeating_warning_is_written_a_few_times_a_minute() -> None:
    now = [0.0]
    limit = RateLimit(burst=3, period=60.0, clock=lambda: now[0])
    logger = logging.getLogger("test.rate")

    def record(message: str, value: object, line: int = 1) -> logging.LogRecord:
        return logger.makeRecord("test.rate", logging.WARNING, __file__, line, message, (value,), None)

    passed = [
        limit.filter(record(f"folder {index} is gone (formatted by the caller) %s", index)) for index in range(137)
    ]
    assert passed.count(True) == 3  # one line of code, one kind, whatever its text
    assert limit.filter(record("another kind %s", 1, line=2))  # another line has its own budget
    now[0] = 61.0
    summary = record("folder %s is gone", "x")
    assert limit.filter(summary) and "(and 134 more like it in the last 60 s)" in summary.getMessage()
    huge = record("dgram %s" + "x" * 100_000, 1, line=3)
    assert limit.filter(huge) and len(huge.getMessage()) < 500
    assert limit.filter(logger.makeRecord("test.rate", logging.INFO, __file__, 1, "info %s", (1,), None))


def test_a_worker_stopped_once_renders_its_next_chunk_whole(sequence_folder: Path, tmp_path: Path) -> None:
    """A Ray worker process renders chunk after chunk: a stop it got during one chunk must not end
    the next at once (``signals.reset`` at each chunk)."""
    from installation import signals
    from installation.capture import render_range
    from installation.options import CaptureOptions, ShowOptions

    saved = {number: signal.getsignal(number) for number in signals.SIGNALS}
    try:
        signals.install()
        with pytest.raises(signals.Stopped):
            os.kill(os.getpid(), signal.SIGTERM)  # the earlier chunk's stop, outside a loop: raises
            time.sleep(5)  # the handler runs at the next bytecode; never reached
        assert signals.stop_requested()
        options = CaptureOptions(out=tmp_path / "chunk", show=ShowOptions(sequence_folder), size=(160, 96), fps=10)
        assert render_range(options, 0, 6, tmp_path / "chunk") == 6
        assert len(list((tmp_path / "chunk").glob("frame_*.png"))) == 6
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
        signals.reset()
