"""Network benchmark: the live loop's frame time with the web control busy, against no server.

    .venv/bin/python benchmarks/network.py [--rounds N]

The live loop (offscreen, the demo, 640x360) runs 600 frames with the HTTP server off, then
with it on while another process (as phones and laptops would be: not in the show's process)
puts a load on it: busy, a control page's websocket open, LISTENing to every value, a fader
moved 30 times a second over it and the keyframe's thumbnail fetched at each keyframe change (as
the page does), and the whole OSCQuery tree asked for 1000 times a second over HTTP; or idle,
1000 websockets that never say a word. Under the busy load the runs without the server get the
same fader moves on the command queue, so the show changes as much in every run and the ratio is
the server's alone. A run's time is from the end of its first frame to the end of its last:
start-up and closing (the web process's goodbye) are not frames. The runs take turns for N
rounds (default 3; each round starts one later); each figure is the median of its rounds, so a
busy moment of this shared machine does not decide the ratio.

Two placements (split for both loads, shared for the busy one):
- split: the show's process on CPU 0 (Mesa's llvmpipe with one thread), the web process and the
  clients on CPU 1: a show machine where the network has a core of its own, as any with a GPU
  and four cores has. The ratio is what the server costs the show's own process.
- shared: no pinning; on a 2-core machine without a GPU the clients, the server and llvmpipe's
  rasterizer all compete for the same two cores, so this ratio is mostly the CPU they take.
In the split placement with the busy load, a third run in each round is a control: no server,
and the network's core kept busy computing by a process unrelated to the show. Its ratio to the
loaded run is what the server costs beyond a neighbour that keeps the other core busy (one that
loads little of the caches and memory the cores share); a line says how busy each run kept the
network's core (time the hypervisor took is not counted as busy). Mesa's llvmpipe draws with one thread in both placements. Each
figure of the show process's own CPU time a frame (all its threads) comes with that of the web
server's one thread in the show (the link): what no neighbour on the machine can inflate but the
server itself.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from liveloop import OTHER_CPU as NETWORK_CPU
from liveloop import SHOW_CPU, FrameClock, demo_player, in_turns, rounds_from_command_line

REQUESTS_PER_SECOND = 1000
MOVES_PER_SECOND = 30
IDLE_SOCKETS = 1000
KEYFRAME_PATHS = ("/goto", "/sequence")
"""The values whose change makes the control page fetch the keyframe's thumbnail again."""
BUSY, IDLE, NEIGHBOUR = "busy", "idle", "neighbour"
LOADS = {
    BUSY: f"the page streaming and {REQUESTS_PER_SECOND} HTTP requests/s",
    IDLE: f"{IDLE_SOCKETS} idle websockets",
    NEIGHBOUR: "no server, the other core kept busy by a process unrelated to the show",
}


async def _requests(session, url: str, stop, counts: dict[str, int]) -> None:
    start = time.perf_counter()
    while not stop.is_set():
        async with session.get(url) as answer:
            await answer.read()
            counts["requests" if answer.status == 200 else "failed"] += 1
        ahead = counts["requests"] / REQUESTS_PER_SECOND - (time.perf_counter() - start)
        if ahead > 0:
            await asyncio.sleep(ahead)


async def _page(session, url: str, ready, stop, counts: dict[str, int]) -> None:
    """What the control page does: LISTEN to everything, move a fader, read what streams back, and
    fetch the keyframe's thumbnail when the keyframe changes."""
    import aiohttp

    from installation.control.osc import osc_message

    async with session.ws_connect(url.replace("http", "ws")) as ws:
        async with session.get(url) as answer:
            tree = await answer.json()
        paths = [node["FULL_PATH"] for node in tree["CONTENTS"].values() if node.get("ACCESS", 0) & 1]
        for path in paths:
            await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": path}))
        ready.set()
        counts["ready_at"], counts["requests_at_ready"] = time.perf_counter(), counts["requests"]

        async def read() -> None:
            async for message in ws:
                counts["streamed"] += 1
                keyframe = message.type == aiohttp.WSMsgType.BINARY and any(
                    f"{path}\0".encode() in message.data for path in KEYFRAME_PATHS
                )
                if keyframe:  # as the page does
                    async with session.get(url + "control/keyframe.jpg") as picture:
                        counts["pictures"] += len(await picture.read()) > 0

        reader = asyncio.ensure_future(read())
        while not stop.is_set():
            await ws.send_bytes(osc_message("/hue", [float(counts["moves"] % 360 - 180)]))
            counts["moves"] += 1
            await asyncio.sleep(1 / MOVES_PER_SECOND)
        reader.cancel()


async def _idle(session, url: str, ready, stop, counts: dict[str, int]) -> None:
    """A thousand websockets that never say a word (the server holds 500 and refuses the rest)."""
    import aiohttp

    tries = await asyncio.gather(*(session.ws_connect(url) for _ in range(IDLE_SOCKETS)), return_exceptions=True)
    sockets = [socket_ for socket_ in tries if isinstance(socket_, aiohttp.ClientWebSocketResponse)]
    counts["held"], counts["refused"] = len(sockets), len(tries) - len(sockets)
    ready.set()
    while not stop.is_set():
        await asyncio.sleep(0.1)
    await asyncio.gather(*(socket_.close() for socket_ in sockets))


async def _clients(port: int, load: str, ready, stop, results) -> None:
    import aiohttp

    url = f"http://127.0.0.1:{port}/"
    counts = {"requests": 0, "failed": 0, "streamed": 0, "moves": 0, "pictures": 0}
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=8 if load == BUSY else 0)) as session:
            if load == BUSY:
                await asyncio.gather(_page(session, url, ready, stop, counts), _requests(session, url, stop, counts))
            else:
                await _idle(session, url, ready, stop, counts)
    except aiohttp.ClientError:
        pass  # the show closed its server at the end of the run
    finally:
        results.put({**counts, "ended_at": time.perf_counter()})


def neighbour(cpus: set[int], ready, stop, results) -> None:
    """A process with nothing to do with the show, keeping the network's core busy computing (Python
    arithmetic on a small working set, so it loads the core, not the caches or memory the cores
    share): what a core kept busy alone costs the show on this machine."""
    os.sched_setaffinity(0, cpus)
    ready.set()
    while not stop.is_set():
        sum(range(10_000))
    results.put({})


def clients(port: int, load: str, cpus: set[int] | None, ready, stop, results) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)
    asyncio.run(_clients(port, load, ready, stop, results))


@dataclass
class Run:
    frame: float
    """Wall seconds a frame, the mean (not the median: a transition's frames take several times a
    rest's, so the median says how long the show rests)."""
    slow: float
    """The 99th percentile: the frames a hiccup made late."""
    cpu: float
    """The show process's CPU seconds a frame (every thread: loop, llvmpipe, link)."""
    link: float
    """The CPU seconds a frame of the web server's one thread in the show's process (the link)."""
    network_busy: float
    """The share of the time the network's core was busy (0 to 1)."""
    counts: dict[str, int]


def _fader(commands, stop: threading.Event) -> None:
    """The page's fader moves without the page: the same values, as often, on the command queue (as
    any controller's would arrive), so that the runs without the server change the show as much."""
    from installation.scene.commands import Command

    moves = 0
    while not stop.wait(1 / MOVES_PER_SECOND):
        commands.put(Command("set", ("hue", float(moves % 360 - 180))))
        moves += 1


def run(load: str | None, split: bool, moves: bool) -> Run:
    """One run of the live loop: without the server (``load`` None or NEIGHBOUR), or with it and that
    load; the fader moves of the busy load come from the page, or without the server from ``_fader``."""
    player = demo_player(osc_port=None, http_port=None if load in (None, NEIGHBOUR) else 0)
    spawn = multiprocessing.get_context("spawn")  # a fork would copy the show's threads half-way
    ready, stop, results = spawn.Event(), spawn.Event(), spawn.SimpleQueue()  # no manager process on a core
    process = None
    if load == NEIGHBOUR:
        process = spawn.Process(target=neighbour, args=(NETWORK_CPU, ready, stop, results))
        process.start()
        ready.wait(60)
    elif load is not None and player.web is not None:
        if split:  # every thread of it: those it started on the show's core keep the core they began on
            for task in Path(f"/proc/{player.web.process_id}/task").iterdir():
                os.sched_setaffinity(int(task.name), NETWORK_CPU)
        process = spawn.Process(
            target=clients, args=(player.web.port, load, NETWORK_CPU if split else None, ready, stop, results)
        )
        process.start()
        if not ready.wait(60):
            raise RuntimeError("the clients did not connect")
        time.sleep(0.5)  # let the request stream reach its pace before the clock starts
    fader_stop = threading.Event()
    if moves and player.web is None:
        threading.Thread(target=_fader, args=(player.pipeline.commands, fader_stop), daemon=True).start()
    frames = FrameClock(player)
    player.run()
    fader_stop.set()
    stop.set()
    counts = {}
    if process is not None:
        counts = results.get()
        process.join(30)
    times = frames.frame_seconds()
    cpu, linked, network_busy = frames.spent()
    return Run(
        statistics.fmean(times),
        statistics.quantiles(times, n=100)[98],
        cpu / len(times),
        linked / len(times),
        network_busy,
        counts,
    )


def measure(split: bool, load: str, rounds: int) -> None:
    """Alone and loaded (and, where asked, beside a busy neighbour) in turns, each round starting
    one later: a slow drift of the machine favours none of them."""
    conditions = (None, load, NEIGHBOUR) if split and load == BUSY else (None, load)
    runs = in_turns(conditions, rounds, lambda condition: run(condition, split, moves=load == BUSY))
    alone, busy = runs[None], runs[load]

    def against(base: list[Run], of, name: str) -> str:
        before, after = statistics.median(map(of, base)), statistics.median(map(of, busy))
        rounds_ = ", ".join(f"{of(b) / of(a):.2f}" for a, b in zip(base, busy, strict=True))
        return f"{name} {before * 1e3:.2f} ms: ratio {after / before:.3f} (rounds {rounds_})"

    def slow(runs_: list[Run]) -> str:
        return f"{statistics.median(r.slow for r in runs_) * 1e3:.2f}"

    print(f"{'split' if split else 'shared'}, with {LOADS[load]}:")
    print(
        f"  frame {statistics.median(r.frame for r in busy) * 1e3:.2f} ms; {against(alone, lambda r: r.frame, 'alone')}"
    )
    if NEIGHBOUR in runs:
        print(f"    {against(runs[NEIGHBOUR], lambda r: r.frame, LOADS[NEIGHBOUR])}")
    print(f"  99th percentile {slow(busy)} ms; alone {slow(alone)} ms")
    print(
        f"  show process CPU a frame {statistics.median(r.cpu for r in busy) * 1e3:.2f} ms; "
        f"{against(alone, lambda r: r.cpu, 'alone')}; of it the link thread "
        f"{statistics.median(r.link for r in busy) * 1e6:.0f} us"
    )
    if split:
        print(
            "  the network's core busy "
            + ", ".join(f"{statistics.median(r.network_busy for r in runs[c]):.0%} {c or 'alone'}" for c in conditions)
        )
    counts = busy[-1].counts
    steady = counts.get("ended_at", 0.0) - counts.get("ready_at", 0.0)  # from the page's LISTENs to the closing
    rate = (counts.get("requests", 0) - counts.get("requests_at_ready", 0)) / max(steady, 1e-9)
    said = (
        f"websockets held {counts.get('held', 0)}, refused {counts.get('refused', 0)}"
        if load == IDLE
        else f"tree requests answered {counts.get('requests', 0)} ({rate:.0f}/s once the page listened), failed "
        f"{counts.get('failed', 0)}; fader moves {counts.get('moves', 0)}; values streamed {counts.get('streamed', 0)}; "
        f"thumbnails fetched {counts.get('pictures', 0)}"
    )
    print(f"  last round: {said}", flush=True)


def main() -> None:
    rounds = rounds_from_command_line(__doc__.splitlines()[0], "network.py")
    os.environ["LP_NUM_THREADS"] = "1"  # before Mesa loads: the split placement gives the show one core
    from installation.render.platform import choose

    choose(offscreen=True)
    everywhere = os.sched_getaffinity(0)
    os.sched_setaffinity(0, SHOW_CPU)
    measure(split=True, load=BUSY, rounds=rounds)
    measure(split=True, load=IDLE, rounds=rounds)
    os.sched_setaffinity(0, everywhere)
    measure(split=False, load=BUSY, rounds=rounds)


if __name__ == "__main__":
    main()
