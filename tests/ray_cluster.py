"""A real two-node Ray cluster on loopback for the cluster tests: a head and a second node,
each a ``ray start --block`` process in its own process group, so teardown ends exactly the
processes the test started (never ``ray stop``, which would end every Ray on the machine)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
START_SECONDS = 90.0


@dataclass(frozen=True)
class Cluster:
    """The head's address, and the environment that reaches it (token authentication off)."""

    address: str
    env: dict[str, str]


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now, from the kernel: unique per test run."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _start(arguments: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [RAY, "start", "--block", "--disable-usage-stats", "--node-ip-address=127.0.0.1", *arguments],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def _nodes_alive(address: str, env: dict[str, str]) -> int:
    """How many nodes the head reports alive (0 while it is not answering yet)."""
    code = (
        f"import json, ray; ray.init(address={address!r}, logging_level='ERROR'); "
        "print(json.dumps(sum(n['Alive'] for n in ray.nodes())))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    return json.loads(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else 0


@contextlib.contextmanager
def two_nodes(folder: Path, head_cpus: int = 1, node_cpus: int = 1) -> Iterator[Cluster]:
    """Start a head and a second node on loopback, wait until both are alive, end both after."""
    port, client, node_manager, object_manager, dashboard_agent, *workers = free_ports(9)
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    address = f"127.0.0.1:{port}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        head = [
            "--head",
            f"--port={port}",
            f"--num-cpus={head_cpus}",
            "--include-dashboard=false",
            f"--ray-client-server-port={client}",
            f"--node-manager-port={node_manager}",
            f"--object-manager-port={object_manager}",
            f"--dashboard-agent-listen-port={dashboard_agent}",
            f"--temp-dir={folder}",
        ]
        processes.append(_start(head, env, folder.with_suffix(".head.log")))
        processes.append(
            _start([f"--address={address}", f"--num-cpus={node_cpus}"], env, folder.with_suffix(".node.log"))
        )
        deadline = time.monotonic() + START_SECONDS
        while _nodes_alive(address, env) < 2:
            assert time.monotonic() < deadline, f"the Ray nodes did not start; see {folder.parent}"
            assert all(process.poll() is None for process in processes), f"a Ray node exited; see {folder.parent}"
        yield Cluster(address, env)
    finally:
        for process in reversed(processes):
            _end_group(process)


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """End a node's whole process group (raylet, workers, agents): TERM, then KILL after 15 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 15
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def worker_pids(task_name: str) -> list[int]:
    """Processes running a Ray task of this name now: Ray titles them ``ray::NAME``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "cmdline").read_bytes().startswith(f"ray::{task_name}".encode()):
                    pids.append(int(entry.name))
    return pids
