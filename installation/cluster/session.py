"""Joining a Ray cluster, or starting a local one, with errors as one sentence."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, TypeVar

from installation import signals
from installation.errors import UserError

if TYPE_CHECKING:
    from ray import ObjectRef

T = TypeVar("T")

POLL_SECONDS = 0.5
"""How often the drivers look at the stop flag while they wait for tasks."""


def import_ray() -> ModuleType:
    """The ray module, or one sentence naming the extra that brings it."""
    try:
        import ray
    except ImportError as error:
        raise UserError(
            "--ray needs Ray, which is not installed; install the cluster extra with "
            "`pip install 'diffusive-metamorphosis[cluster]'` on this machine and on every node."
        ) from error
    return ray


@contextlib.contextmanager
def connected(address: str) -> Iterator[ModuleType]:
    """Ray, joined to the cluster at ``address`` ("" starts a local instance), left afterwards.

    Worker output stays in the cluster's logs: a failed task comes back as its one sentence.
    """
    ray = import_ray()
    local = {"include_dashboard": False} if not address else {}
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, *signals.SIGNALS)}
    try:
        ray.init(address=address or None, log_to_driver=False, logging_level=logging.WARNING, **local)
        _restore(handlers)
    except (ConnectionError, RuntimeError, ValueError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0].rstrip(".")
        raise UserError(
            f"No Ray cluster could be joined at {address or 'a new local instance'} ({reason}); start one with "
            "`ray start --head` and give its address, or leave the address out to start a local one."
        ) from error
    try:
        yield ray
    finally:
        ray.shutdown()
        _restore(handlers)


def _restore(handlers: Mapping[signal.Signals, object]) -> None:
    """Give Ctrl-C, SIGTERM and SIGHUP back to the command, after joining and after leaving: Ray's
    driver installs its own, which would end the process before the finished chunks are joined."""
    if threading.current_thread() is threading.main_thread():
        for number, handler in handlers.items():
            if callable(handler) or handler in (signal.SIG_DFL, signal.SIG_IGN):
                signal.signal(number, handler)  # type: ignore[arg-type]


def wait_ready(refs: list[ObjectRef[T]]) -> list[ObjectRef[T]]:
    """The tasks among ``refs`` that have finished, after at most ``POLL_SECONDS``; a stop
    signal (SIGTERM, SIGHUP) ends the wait as Ctrl-C does."""
    if signals.stop_requested():
        raise signals.Stopped()
    ready, _ = import_ray().wait(refs, num_returns=1, timeout=POLL_SECONDS)
    return ready


def failure_reason(error: BaseException) -> str:
    """A failed or lost task as a short clause: its exception's first line."""
    cause = getattr(error, "cause", None) or error
    text = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {text}".rstrip(": ")
