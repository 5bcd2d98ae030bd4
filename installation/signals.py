"""Stop requests from a service manager: SIGTERM and SIGHUP end play and capture cleanly.

While a loop runs (``polling``), the handlers only set a flag that the loop reads once per
frame, so a stop never lands inside a GL call or a half-written file and outputs stay finished
and playable. Before the loop runs (loading a long sequence, building the demo), the handler
raises ``Stopped`` at once, so ``systemctl stop`` and ``timeout`` never wait for a start-up.
Commands that do not install the handlers keep the default action: the signal ends them.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

STOP = threading.Event()
SIGNALS = (signal.SIGTERM, signal.SIGHUP)
received: list[int] = []
_polling = threading.Event()


class Stopped(Exception):
    """The command ended early because a stop signal arrived; what it wrote is finished and kept."""

    def __init__(self) -> None:
        self.signal = received[-1] if received else signal.SIGTERM
        super().__init__(f"stopped by {signal.Signals(self.signal).name}")

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a process the signal ended."""
        return 128 + int(self.signal)


def _request_stop(number: int, frame: FrameType | None) -> None:
    received.append(number)
    STOP.set()
    if not _polling.is_set():
        raise Stopped()


def install() -> None:
    """Route SIGTERM and SIGHUP to the stop flag (main thread only, as Python requires)."""
    if threading.current_thread() is threading.main_thread():
        for number in SIGNALS:
            signal.signal(number, _request_stop)


@contextlib.contextmanager
def polling(interrupt: bool = False) -> Iterator[None]:
    """While inside, a stop only sets the flag: the loop reads it between frames. With
    ``interrupt``, Ctrl-C (SIGINT) too: a capture then stops between frames, never inside a GL
    call, whose cleanup could fail half-way and end the command without its message."""
    if STOP.is_set():
        raise Stopped()
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _request_stop) if interrupt and main else None
    _polling.set()
    try:
        yield
    finally:
        _polling.clear()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def reset() -> None:
    """Forget a stop asked of an earlier run of this process: a Ray worker renders chunk after
    chunk, and one signal must not stop every chunk it renders later."""
    STOP.clear()
    received.clear()


def stop_requested() -> bool:
    return STOP.is_set()
