"""Where wishes become sequences: each one a run of ``metamorph keyframes`` in a worker process.

The worker is the command users know, with its own checks and its own backends: the procedural
one, diffusers (a turbo model in a few steps), or a Ray cluster where the GPU is (``--ray``). It
works in a hidden folder of the visitors' folder and the sequence is renamed into place only
when whole, so the show, a playlist or a restart never sees half of one; a worker that takes
longer than the timeout is killed with everything it started (its own process group) and its
folder removed. The visitors' folder keeps the last ``keep_last`` sequences, oldest deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import signal
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from installation.keyframes.sequence import MANIFEST
from installation.scene.playlist import sequence_named, sequences_in
from installation.visitors.desk import Said, Wish

log = logging.getLogger(__name__)
PREFIX = "wish-"
"""Made sequences are named ``wish-YYYYMMDD-HHMMSS-N``: by time, and never by a stranger's words."""
WORK_PREFIX = ".making-"
SAID_LIMIT = 400
"""The characters of a failed worker's last line that are kept (its one sentence)."""


@dataclass(frozen=True)
class Recipe:
    """How every wish is made: the keyframes command's options (each field named as the
    ``VisitorOptions`` field it comes from)."""

    backend: str = "procedural"
    model: str | None = None
    steps: int = 20
    captures: int = 8
    strength: float = 0.75
    guidance: float = 7.5
    size: tuple[int, int] = (768, 432)
    ray: str | None = None
    timeout: float = 300.0

    def arguments(self, source: Path, prompt: str, out: Path, seed: int) -> list[str]:
        """The worker's command line (the prompt as ``--prompt=TEXT``: a wish that starts with a
        dash is still a prompt)."""
        made = [sys.executable, "-m", "installation", "keyframes", str(source), f"--prompt={prompt}"]
        made += ["--out", str(out), "--backend", self.backend, "--steps", str(self.steps)]
        made += ["--captures", str(self.captures), "--strength", f"{self.strength:g}", "--seed", str(seed)]
        made += ["--guidance", f"{self.guidance:g}"]
        made += ["--size", "{}x{}".format(*self.size), "--quiet"]
        if self.model is not None:
            made += ["--model", self.model]
        if self.ray is not None:
            made.append(f"--ray={self.ray}")
        return made


class Failed(Said):
    """A wish that could not be made."""


class Studio:
    """Makes one wish at a time into ``folder``."""

    def __init__(self, folder: Path, recipe: Recipe, keep_last: int | None = None) -> None:
        self.folder = folder
        self.recipe = recipe
        self.keep_last = keep_last
        folder.mkdir(parents=True, exist_ok=True)
        self.sweep()
        self._made = self._listing()
        """The made sequences, oldest first: read again only when this studio changes them."""

    async def make(self, wish: Wish, source: Path) -> Path:
        """The wish's sequence, made from ``source`` (the keyframe on screen or the visitor's
        photo) and renamed into place; ``Failed`` when the worker fails or runs out of time."""
        work = self.folder / f"{WORK_PREFIX}{wish.token}"
        work.mkdir()
        try:
            start = work / f"source{source.suffix}"
            try:
                shutil.copyfile(source, start)
            except OSError as error:
                raise Failed("The picture to start from could not be read; try again.", "source") from error
            await self._run(self.recipe.arguments(start, wish.prompt, work / "made", secrets.randbits(31)))
            return self._place(_made(work / "made"), wish)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    async def _run(self, arguments: list[str]) -> None:
        worker = await asyncio.create_subprocess_exec(
            *arguments,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _, said = await asyncio.wait_for(worker.communicate(), self.recipe.timeout)
        except TimeoutError:
            raise Failed(
                f"Making the wish took longer than {self.recipe.timeout:g} s and was stopped; try a simpler one later.",
                "timeout",
            ) from None
        finally:
            if worker.returncode is None:  # out of time, or the server closing
                _kill(worker)
                await worker.wait()
        if worker.returncode != 0:
            lines = said.decode("utf-8", "replace").strip().splitlines()
            log.warning("visitors: a wish's worker failed (exit %s): %s", worker.returncode, lines[-1:] or "no message")
            raise Failed("The model could not make this wish; try other words.", "error")

    def _place(self, made: Path, wish: Wish) -> Path:
        name = f"{PREFIX}{datetime.now():%Y%m%d-%H%M%S}-{wish.number}"
        final = self.folder / name
        os.rename(made, final)
        self._keep_last(final)
        self._made = self._listing()
        return final

    def delete(self, name: str) -> bool:
        """Delete the made sequence ``name`` (a plain name in the folder, nothing else)."""
        found = sequence_named(self.folder, name)
        if found is None:
            return False
        shutil.rmtree(found, ignore_errors=True)
        log.info("visitors: the operator deleted %s", name)
        self._made = self._listing()
        return True

    def made(self) -> list[Path]:
        """The made sequences, oldest first."""
        return list(self._made)

    def _listing(self) -> list[Path]:
        try:
            return [path for path in sequences_in(self.folder) if path.name.startswith(PREFIX)]
        except OSError:
            return []

    def sweep(self) -> None:
        """Work folders a killed process left behind are removed at start."""
        for path in self.folder.glob(f"{WORK_PREFIX}*"):
            shutil.rmtree(path, ignore_errors=True)

    def _keep_last(self, kept: Path) -> None:
        made = self._listing()
        if self.keep_last is None:
            return
        for path in made[: max(0, len(made) - self.keep_last)]:
            if path != kept:
                shutil.rmtree(path, ignore_errors=True)


def _made(out: Path) -> Path:
    """The sequence the worker made in ``out``: ``out`` itself, or its one sequence (with --ray)."""
    if (out / MANIFEST).is_file():
        return out
    found = sequences_in(out) if out.is_dir() else []
    if len(found) != 1:
        raise Failed("The model made nothing for this wish; try again.", "error")
    return found[0]


def _kill(worker: asyncio.subprocess.Process) -> None:
    """The worker and whatever it started (Ray's driver, a loader thread's children)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(worker.pid, signal.SIGKILL)
