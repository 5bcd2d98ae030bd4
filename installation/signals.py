"""Stop requests from a service manager: SIGTERM and SIGHUP end the loops cleanly between frames.

The handlers only set a flag; the live loop and the capture loop look at it once per frame, so a
stop never lands inside a GL call or a half-written file. ``systemctl stop`` and ``timeout``
therefore end the show within a frame, with outputs finished and playable.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

STOP = threading.Event()
SIGNALS = (signal.SIGTERM, signal.SIGHUP)
received: list[str] = []


def _request_stop(number: int, frame: FrameType | None) -> None:
    received.append(signal.Signals(number).name)
    STOP.set()


def install() -> None:
    """Route SIGTERM and SIGHUP to the stop flag (main thread only, as Python requires)."""
    if threading.current_thread() is threading.main_thread():
        for number in SIGNALS:
            signal.signal(number, _request_stop)


def stop_requested() -> bool:
    return STOP.is_set()


class Stopped(Exception):
    """A loop ended early because a stop signal arrived; what it wrote is finished and kept."""

    def __init__(self) -> None:
        super().__init__(f"stopped by {received[-1] if received else 'a signal'}")
