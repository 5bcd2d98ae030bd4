"""Visitors benchmark: the live loop's frame time while strangers hammer the visitor page, and how
long a wish takes from the phone to the screen.

    SDL_VIDEODRIVER=offscreen PYOPENGL_PLATFORM=egl .venv/bin/python benchmarks/visitors.py [--rounds N]

The live loop (offscreen, the demo, 640x360, 1800 frames) runs in three conditions, taking
turns for N rounds (default 2), each figure the median of its rounds:
- alone: no visitor page;
- idle: the visitor page open, nobody on it;
- hostile: another process, as phones would be, sends a thousand wishes from one address, 40 MB
  uploads, 20000x20000 PNGs, bodies that never come and prompts of 10 KB, and three real wishes with
  photos from three addresses, which the studio makes (a worker process each) while the show runs
  (made, not shown, so that every run draws the same frames).
The ratios are the frame time of each against alone. The visitors' process and its workers run
at the lowest priority, as play starts them; so does the load's process here, since on a real
installation the phones are other machines. Then one wish each with the procedural
backend and the tiny diffusers pipeline (4 steps, tests/tiny_families.py's turbo family), timed
from the page's POST to the show's first frame of it.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from liveloop import FrameClock, demo_player, in_turns, rounds_from_command_line

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import huge_png_bytes  # noqa: E402
from tests.tiny_families import build_tiny_family  # noqa: E402
from tests.visitors.visitor import Visitor  # noqa: E402

ALONE, IDLE, HOSTILE = "alone", "idle", "hostile"
REAL_WISHES = 3
TRUNCATED = b"POST /visit/wish HTTP/1.1\r\nHost: x\r\nContent-Length: 9999\r\nConnection: close\r\n\r\n"
"""A wish whose body never comes."""
FRAMES = 1800
"""Frames a run: long enough for the wishes to be made while it runs."""


def photo(side: int) -> bytes:
    import numpy as np
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.random.default_rng(side).integers(0, 255, (side, side, 3), np.uint8)).save(out, "JPEG")
    return out.getvalue()


def hostile(port: int, ready, stop, results) -> None:
    """Strangers on the visitor page until ``stop``: three real wishes with photos (made by the
    studio while the show is timed), then floods the desk refuses, round after round."""
    os.nice(19)  # the phones are other machines: this one lends them only what the show leaves
    counts = {"taken": 0, "refused": 0, "cut off": 0, "after the run": 0}

    def send(visitor: Visitor, prompt: str, data: bytes | None) -> None:
        try:
            counts["taken" if visitor.wish(prompt, data)[0] == 200 else "refused"] += 1
        except ConnectionRefusedError:  # the run is over and the page closed
            counts["after the run"] += 1
        except OSError:  # the server closed on an upload it would not read to the end
            counts["cut off"] += 1

    ready.set()
    for number in range(REAL_WISHES):
        visitor = Visitor(port, f"127.0.4.{number + 1}")
        visitor.open_page()
        send(visitor, f"a storm over the lake {number}", photo(1200))
    garbage = [
        ("x" * 10_240, None),
        ("the alps", b"\xff" * (40 * 2**20)),
        ("the alps", huge_png_bytes(20_000, 20_000)),
        ("the alps", b"not a photo"),
    ]
    number, held = 0, []
    while not stop.is_set():
        visitor = Visitor(port, "127.0.0.5", cookie=f"visitor-cookie-{number:08d}")
        send(visitor, *(garbage[number // 50 % len(garbage)] if number % 50 == 0 else (f"wish {number}", None)))
        if number % 100 == 0:
            with contextlib.suppress(OSError):  # the show may be closing its page
                held.append(socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.6", 0)))
                held[-1].sendall(TRUNCATED)  # and never the body: the page waits for it, then says 408
        number += 1
    for connection in held:
        connection.close()
    results.put(counts | {"held open": len(held)})


def run(condition: str) -> tuple[float, dict[str, int]]:
    """One run: the mean frame time, and the visitors' counts."""
    from installation.visitors.options import VisitorOptions

    visitors = VisitorOptions(
        enabled=condition != ALONE,
        port=0,
        photos=True,
        every=10.0,
        queue=5,
        size=(256, 144),
        folder=Path(tempfile.mkdtemp()),
    )
    player = demo_player(osc_port=None, http_port=None, visitors=visitors, frames=FRAMES)
    if player.visits is not None:  # wishes are made, not shown: every run draws the same frames
        player.visits.after_frame = lambda state: None  # type: ignore[method-assign]
    clock = FrameClock(player)
    spawn = multiprocessing.get_context("spawn")
    ready, stop, results = spawn.Event(), spawn.Event(), spawn.Queue()
    process = None
    if condition == HOSTILE and player.visits is not None:
        process = spawn.Process(target=hostile, args=(player.visitor_link.port, ready, stop, results))
        process.start()
        ready.wait(60)
    player.run()
    counts: dict[str, int] = {}
    if process is not None:
        stop.set()
        counts = results.get(timeout=300)
        process.join()
    return statistics.fmean(clock.frame_seconds()), counts


def wish_seconds(backend: str, model: Path | None) -> float:
    """From the POST of a wish to the show's first frame of it, with the real show running."""
    from installation.visitors.options import VisitorOptions

    options = {"backend": backend, "model": str(model) if model else None, "steps": 4, "captures": 3, "strength": 1.0}
    visitors = VisitorOptions(
        enabled=True, port=0, every=0.0, size=(256, 144), folder=Path(tempfile.mkdtemp()), **options
    )
    player = demo_player(osc_port=None, http_port=None, visitors=visitors, frames=None)
    assert player.visits is not None
    port, timing = player.visitor_link.port, {}

    def visit() -> None:
        visitor = Visitor(port, "127.0.0.9")
        visitor.open_page()
        timing["sent"] = time.perf_counter()
        visitor.wish("a storm over the lake")

    after_frame = player.gallery.after_frame

    def watch(state, seconds) -> None:
        after_frame(state, seconds)
        if "sent" in timing and state.stage.name.startswith("wish-"):
            timing["shown"] = time.perf_counter()
            player.running = False

    player.gallery.after_frame = watch
    threading.Thread(target=visit, daemon=True).start()
    player.run()
    return timing["shown"] - timing["sent"]


def main() -> None:
    rounds = rounds_from_command_line(__doc__ or "", "visitors.py")
    runs = in_turns((ALONE, IDLE, HOSTILE), rounds, run)
    frame = {condition: statistics.median(seconds for seconds, _ in results) for condition, results in runs.items()}
    print(f"the live loop, demo at 640x360, {FRAMES} frames, median of {rounds} rounds (mean frame time):")
    for condition in (ALONE, IDLE, HOSTILE):
        print(
            f"  {condition:8s} {frame[condition] * 1000:6.2f} ms   ratio to alone {frame[condition] / frame[ALONE]:.3f}"
        )
    print(f"  hostile clients: {runs[HOSTILE][-1][1]}")
    model = build_tiny_family("sd-turbo", Path(tempfile.mkdtemp()))
    for backend, used in (("procedural", None), ("diffusers", model)):
        print(f"a wish, {backend} (4 steps, 256x144): {wish_seconds(backend, used):.1f} s from the POST to the screen")


if __name__ == "__main__":
    main()
