"""The show's OSCQuery server read by a client we did not write: the npm package ``oscquery`` 1.1.1
(jangxx/node-oscquery, which VRChat tools use). Its ``OSCQueryDiscovery`` finds the server on zeroconf
(bonjour-service), fetches ``/`` and ``/?HOST_INFO`` and parses them into its own nodes;
``oscquery_client/discover.mjs`` prints what it parsed, and these tests hold that to the show."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from installation.control.osc import osc_message
from installation.control.oscquery import EXTENSIONS
from installation.scene.commands import COMMANDS
from installation.scene.parameters import PLAYER_PARAMETERS
from installation.scene.presets import shipped_presets
from tests.control.showserver import RunningShow, running_show, write_packets
from tests.helpers import flat_stage, wait_for

CLIENT = Path(__file__).parent / "oscquery_client"
READONLY, READWRITE, WRITEONLY = 1, 3, 2
"""The library's OSCQAccess values."""


@pytest.fixture(scope="module")
def discover() -> Path:
    """The client script, its npm packages installed (``npm ci``, from the lock file) when missing."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (`node` is not on PATH): the third-party OSCQuery client needs it")
    if not (CLIENT / "node_modules" / "oscquery").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"npm is not installed, so the packages of {CLIENT} cannot be installed (npm ci)")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=CLIENT, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci in {CLIENT} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return CLIENT / "discover.mjs"


def _library_view(script: Path, show: RunningShow) -> dict[str, Any]:
    """What the library discovered and parsed for the show's server: host info and methods by path."""
    done = subprocess.run(
        ["node", str(script), str(show.server.port), "20"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"the client failed ({done.returncode}): {done.stderr}"
    view = json.loads(done.stdout)
    assert view["port"] == show.server.port and view["address"] == "127.0.0.1"
    methods = {method["full_path"]: method for method in view["methods"]}
    assert len(methods) == len(view["methods"])  # no path twice
    return {"host_info": view["host_info"], "methods": methods}


def _argument(method: dict[str, Any]) -> dict[str, Any]:
    (argument,) = method["arguments"]
    return argument


@pytest.mark.slow
def test_the_library_reads_every_parameter_and_command_and_host_info(discover: Path) -> None:
    with running_show(keyframes=3, advertise=True, osc_port=9000) as show:
        view = _library_view(discover, show)
        settings = show.state().settings
    host = view["host_info"]
    assert host["name"] == f"metamorph on {socket.gethostname()}"
    assert (host["oscPort"], host["oscTransport"], host["wsPort"]) == (9000, "UDP", show.server.port)
    assert {name for name, on in host["extensions"].items() if on} == set(EXTENSIONS)
    methods = dict(view["methods"])
    for spec in PLAYER_PARAMETERS:
        method = methods.pop(spec.address)
        assert method["access"] == READWRITE and method["description"] == spec.help, spec.address
        assert method["arguments"] == [
            {
                "type": "f",
                "range": {"min": spec.minimum, "max": spec.maximum},
                "clipmode": "both",
                "value": getattr(settings, spec.name),
                "has_value": True,
            }
        ], spec.address
    beat = methods.pop("/beat")  # read-only, and without a value while the show runs free
    assert beat["access"] == READONLY and not _argument(beat)["has_value"]
    # The commands a parameter does not shadow (/blackout is both), each once, as the table has them;
    # a button or toggle ("T") is served as an int 0..1.
    assert sorted(methods) == sorted({f"/{name}" for name in COMMANDS} - {p.address for p in PLAYER_PARAMETERS})
    for path, method in methods.items():
        spec = COMMANDS[path[1:]]
        assert method["description"] == spec.help, path
        assert [argument["type"] for argument in method["arguments"]] == list(spec.arguments.replace("T", "i")), path
    assert methods["/next"]["access"] == WRITEONLY and not _argument(methods["/next"])["has_value"]
    assert _argument(methods["/next"])["range"] == {"min": 0, "max": 1}
    goto = _argument(methods["/goto"])
    assert methods["/goto"]["access"] == READWRITE and goto["range"] == {"min": 0, "max": 2}
    assert goto["clipmode"] == "both" and goto["value"] in range(3)
    assert _argument(methods["/pause"])["value"] == 0 and _argument(methods["/sequence"])["value"] == "test"
    assert _argument(methods["/preset"])["range"] == {"vals": list(shipped_presets())}
    name, value = methods["/set"]["arguments"]
    assert name["range"] == {"vals": [p.name for p in PLAYER_PARAMETERS]} and value["type"] == "f"


@pytest.mark.slow
def test_a_second_discovery_reads_what_changed_on_the_show(discover: Path) -> None:
    with running_show(keyframes=3, advertise=True) as show:
        before = _library_view(discover, show)["methods"]
        assert _argument(before["/hold"])["value"] == 3.0 and _argument(before["/pause"])["value"] == 0
        show.on_render_thread(lambda: show.pipeline.show.switch(flat_stage(7, name="seven")))
        wait_for(lambda: show.state().stage.count == 7)
        asyncio.run(
            write_packets(
                show.url.replace("http", "ws") + "/", [osc_message("/hold", [7.5]), osc_message("/pause", [1])]
            )
        )
        wait_for(lambda: show.state().settings.hold == 7.5 and show.state().conductor.paused)
        after = _library_view(discover, show)["methods"]
        index = show.state().conductor.index
    assert _argument(after["/hold"])["value"] == 7.5 and _argument(after["/pause"])["value"] == 1
    assert _argument(after["/sequence"])["value"] == "seven"
    goto = _argument(after["/goto"])
    assert goto["range"] == {"min": 0, "max": 6} and goto["value"] == index
