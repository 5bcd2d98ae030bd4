"""OSCQuery against a running show on loopback: the tree, HOST_INFO, attribute queries, LISTEN
streaming, writes over the websocket, the allow-list, the key, read-only mode and hostile input."""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import math
import re
import socket
import struct
from urllib.parse import quote

import aiohttp
import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.udp_client import SimpleUDPClient

from installation.control.mapping import load_mapping
from installation.control.osc import OscControl, networks, osc_message
from installation.control.oscquery import ATTRIBUTES, readings
from installation.control.webserver import BLOCK_SECONDS, KEY_TRIES, MAX_MESSAGE
from installation.scene.commands import COMMANDS
from installation.scene.parameters import PLAYER_PARAMETERS
from installation.scene.presets import shipped_presets
from installation.scene.show import Show
from installation.scene.wire import decode, describe, encode
from tests.control.showserver import get, next_message, running_show, write_packets
from tests.helpers import flat_stage, wait_for

UNITS = {"time.speed", "time.second", "angle.degree", "gain.linear"}
CLIPMODES = {"none", "low", "high", "both"}


def _nodes(node: dict) -> list[dict]:
    return [node, *(found for child in node.get("CONTENTS", {}).values() for found in _nodes(child))]


def _check_node(node: dict) -> None:
    """Each attribute with the JSON type the proposal gives it; one VALUE/RANGE/CLIPMODE/UNIT per type tag."""
    assert set(node) <= set(ATTRIBUTES)
    assert isinstance(node["FULL_PATH"], str) and node["FULL_PATH"].startswith("/")
    assert node["ACCESS"] in (0, 1, 2, 3) and isinstance(node["DESCRIPTION"], str)
    for name, child in node.get("CONTENTS", {}).items():
        assert child["FULL_PATH"] == node["FULL_PATH"].rstrip("/") + "/" + name
    if "TYPE" not in node:
        assert "CONTENTS" in node and not {"VALUE", "RANGE"} & set(node)
        return
    types = node["TYPE"]
    assert isinstance(types, str) and set(types) <= set("ifs")
    for attribute in ("VALUE", "RANGE", "CLIPMODE", "UNIT"):
        if attribute in node:
            assert isinstance(node[attribute], list) and len(node[attribute]) in (1, len(types)), attribute
    for tag, value in zip(types, node.get("VALUE", []), strict=False):
        assert isinstance(value, str) if tag == "s" else isinstance(value, (int, float)) and math.isfinite(value)
    for ranged in node.get("RANGE", []):
        assert isinstance(ranged, dict) and set(ranged) <= {"MIN", "MAX", "VALS"}
        assert isinstance(ranged.get("VALS", []), list)
    assert set(node.get("CLIPMODE", [])) <= CLIPMODES and set(node.get("UNIT", [])) <= UNITS
    if node["FULL_PATH"] in ("/beat", "/tempo"):  # these shows run free: no beat, no value to read
        assert "VALUE" not in node
    else:
        assert ("VALUE" in node) == bool(node["ACCESS"] & 1)


def test_the_tree_is_the_registry_and_the_command_table() -> None:
    with running_show() as show:
        status, tree = get(show.url + "/")
    assert status == 200 and tree["FULL_PATH"] == "/"
    nodes = _nodes(tree)
    for found in nodes:
        _check_node(found)
    methods = {found["FULL_PATH"]: found for found in nodes if "TYPE" in found}
    assert methods["/duration"]["UNIT"] == ["time.second"] and methods["/duration_min"]["UNIT"] == ["time.second"]
    # Methods are leaves: Chataigne takes a node with CONTENTS for a group and drops its value.
    containers = ["/", "/audio", "/blend", "/corner", "/visitors"]
    assert [found["FULL_PATH"] for found in nodes if "CONTENTS" in found] == containers
    assert all(found["ACCESS"] == 0 and "TYPE" not in found for found in nodes if "CONTENTS" in found)
    for spec in PLAYER_PARAMETERS:
        method = methods.pop(spec.address)
        assert method["TYPE"] == "f" and method["ACCESS"] == 3 and method["DESCRIPTION"] == spec.help
        assert method["RANGE"] == [{"MIN": spec.minimum, "MAX": spec.maximum}] and method["CLIPMODE"] == ["both"]
        assert method["VALUE"] == [getattr(show.state().settings, spec.name)]
    assert methods.pop("/beat")["ACCESS"] == 1  # read-only: the page's beat indicator; no VALUE while free
    assert sorted(methods) == sorted(f"/{name}" for name in COMMANDS if name != "blackout")  # nothing twice
    assert methods["/sync"]["RANGE"] == [{"VALS": ["free", "link", "midi", "tap", "audio"]}]
    assert methods["/tempo"]["RANGE"] == [{"MIN": 20.0, "MAX": 999.0}] and "VALUE" not in methods["/tempo"]
    assert methods["/goto"]["RANGE"] == [{"MIN": 0, "MAX": 2}] and methods["/goto"]["VALUE"] == [0]
    assert methods["/next"]["ACCESS"] == 2 and methods["/pause"]["VALUE"] == [0]
    assert methods["/preset"]["RANGE"] == [{"VALS": list(shipped_presets())}]


def test_host_info_single_nodes_and_attributes() -> None:
    with running_show(osc_port=8000) as show:
        assert get(show.url + "/anything?HOST_INFO")[1] == get(show.url + "/?HOST_INFO")[1]
        status, info = get(show.url + "/?HOST_INFO")
        assert status == 200 and isinstance(info["NAME"], str) and info["OSC_PORT"] == 8000
        assert info["OSC_TRANSPORT"] == "UDP" and info["WS_PORT"] == show.server.port
        assert all(isinstance(flag, bool) for flag in info["EXTENSIONS"].values())
        assert {"LISTEN", "PATH_ADDED", "PATH_REMOVED", "VALUE", "RANGE"} <= {
            k for k, v in info["EXTENSIONS"].items() if v
        }
        assert get(show.url + "/speed?VALUE") == (200, {"VALUE": [1.0]})
        assert get(show.url + "/hue?RANGE") == (200, {"RANGE": [{"MIN": -180.0, "MAX": 180.0}]})
        assert get(show.url + "/hue?UNIT") == (200, {"UNIT": ["angle.degree"]})
        assert get(show.url + "/audio?TYPE") == (200, {})  # a container has no type: an empty object
        status, audio = get(show.url + "/audio")
        assert status == 200 and sorted(audio["CONTENTS"]) == ["color", "gain", "speed"]
        assert get(show.url + "/audio/gain")[1]["FULL_PATH"] == "/audio/gain"
        assert get(show.url + "/next?VALUE")[0] == 204  # write-only
        assert get(show.url + "/speed?NOT_AN_ATTRIBUTE")[0] == 400
        assert get(show.url + "/nothing/here")[0] == 404
        assert get(show.url + "/nothing?VALUE")[0] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/" + "a" * 3000,
        "/speed/" + "é" * 500,
        "/%00%ff%fe",
        "/speed?VALUE?VALUE",
        "/speed?VALUE&RANGE",
        "/speed?" + "VALUE" * 500,
        "/speed?%F0%9F%98%80",
        "//speed//",
        "/../../etc/passwd",
        "/control/../../pyproject.toml",
        "/control/" + "x" * 1000,
        "/speed?NaN",
    ],
)
def test_absurd_requests_are_answered_and_the_show_goes_on(path: str) -> None:
    with running_show() as show:
        status, _ = get(show.url + quote(path, safe="/?%&"))
        assert status in (400, 404, 414)
        assert get(show.url + "/speed?VALUE") == (200, {"VALUE": [1.0]})


def test_absurd_bytes_bodies_and_methods() -> None:
    with running_show() as show:
        assert get(show.url + "/speed", "POST", b"x" * 2_000_000)[0] in (405, 413)
        assert get(show.url + "/speed", "PUT", json.dumps({"VALUE": [math.nan]}).encode())[0] == 405
        for garbage in (
            b"\x00\xff" * 5000 + b"\r\n\r\n",
            b"GET /" + b"/" * 70000 + b" HTTP/1.1\r\n\r\n",
            b"GET\r\n\r\n",
        ):
            with socket.create_connection(("127.0.0.1", show.server.port), timeout=10) as raw:
                raw.sendall(garbage)
                assert re.match(rb"HTTP/1\.[01] 400 ", raw.recv(100))
        assert get(show.url + "/speed?VALUE")[0] == 200
        assert show.state().settings.speed == 1.0


MALFORMED = [
    b"\x00\xff" * 5000 + b"\r\n\r\n",
    b"GET /" + b"/" * 70000 + b" HTTP/1.1\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
]


def test_malformed_requests_are_one_counted_debug_line_each(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with running_show() as show:
        for garbage in MALFORMED:
            with socket.create_connection(("127.0.0.1", show.server.port), timeout=10) as raw:
                raw.sendall(garbage)
                assert re.match(rb"HTTP/1\.[01] 400 ", raw.recv(100))
        wait_for(lambda: show.server.counts["malformed requests"] == len(MALFORMED))
        wait_for(lambda: len([r for r in caplog.records if r.name == "aiohttp.server"]) == len(MALFORMED))
    server_lines = [record for record in caplog.records if record.name == "aiohttp.server"]
    assert {record.levelno for record in server_lines} == {logging.DEBUG}
    assert "Traceback" not in caplog.text


def _ping_flood_and_vanish(port: int) -> None:
    """A websocket sending pings and never reading the pongs, until the server stops reading it;
    then the connection reset under the pongs the server is still writing."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    raw.sendall(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    assert raw.recv(4096).startswith(b"HTTP/1.1 101 ")
    ping = bytes([0x89, 0x80 | 125]) + bytes(4) + b"x" * 125  # masked with zeros, so sent as is
    raw.settimeout(1.0)
    try:
        while True:
            raw.sendall(ping * 500)
    except TimeoutError:  # the server's pongs back up: it reads no more
        pass
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends a reset
    raw.close()


@pytest.mark.slow
def test_a_dropped_ping_flood_is_one_counted_debug_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with running_show() as show:
        _ping_flood_and_vanish(show.server.port)
        wait_for(lambda: show.server.counts["lost clients"] == 1, 30)
        assert get(show.url + "/speed?VALUE") == (200, {"VALUE": [1.0]})
    assert "Traceback" not in caplog.text


def test_a_slow_client_does_not_hold_up_the_others() -> None:
    with running_show() as show, socket.create_connection(("127.0.0.1", show.server.port), timeout=10) as slow:
        slow.sendall(b"GET /speed HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        for _ in range(20):
            assert get(show.url + "/speed?VALUE")[0] == 200


async def _listen(url: str, path: str, send: object) -> OscMessage:
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": path}))
        await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": "/speed"}))
        await ws.send_str(json.dumps({"COMMAND": "IGNORE", "DATA": "/speed"}))
        await asyncio.sleep(0)  # the commands go out before the change is asked for
        await asyncio.get_running_loop().run_in_executor(None, send)
        message = await next_message(ws)
        assert message.type == aiohttp.WSMsgType.BINARY
        return OscMessage(message.data)


def test_listen_streams_a_change_made_over_osc() -> None:
    with running_show() as show:
        osc = OscControl(load_mapping(), show.pipeline.commands, lambda: show.pipeline.latest, port=0, host="127.0.0.1")
        try:
            client = SimpleUDPClient("127.0.0.1", osc.port)
            wait_for(lambda: show.server.counts["requests"] >= 0)
            message = asyncio.run(
                _listen(show.url.replace("http", "ws") + "/", "/hue", lambda: client.send_message("/hue", 45.0))
            )
        finally:
            osc.close()
    assert message.address == "/hue" and message.params == [45.0]


def test_websocket_writes_with_the_key_only() -> None:
    with running_show(key="sesame ü") as show:
        base = show.url.replace("http", "ws") + "/"
        asyncio.run(write_packets(base, [osc_message("/speed", [3.0])]))
        wait_for(lambda: show.server.counts["refused"] == 1)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            asyncio.run(write_packets(base + "?key=wrong", [osc_message("/speed", [4.0])]))
        assert refused.value.status == 403
        asyncio.run(
            write_packets(base + "?key=sesame%20%C3%BC", [osc_message("/speed", [2.5]), osc_message("/next", [1])])
        )
        wait_for(lambda: show.state().settings.speed == 2.5 and show.state().conductor.target == 1)
        assert get(show.url + "/control/config.json")[1]["key"] is True


async def _try_keys(url: str, keys: list[str], source: str = "127.0.0.1") -> list[int]:
    """Each key tried as a websocket upgrade on one keep-alive connection from ``source``, as a
    guesser would: the status of each (101: the socket opened)."""
    statuses = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0))) as session:
        for key in keys:
            try:
                async with session.ws_connect(f"{url}?key={quote(key)}"):
                    statuses.append(101)
            except aiohttp.WSServerHandshakeError as refused:
                statuses.append(refused.status)
    return statuses


def _status_from(source: str, port: int, path: str) -> tuple[int, str | None]:
    """The status and Retry-After of one HTTP GET sent from the loopback address ``source``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.getheader("Retry-After")
    finally:
        connection.close()


def test_an_address_guessing_the_key_is_refused_everything_for_a_while(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with running_show(key="4711") as show:
        url = show.url.replace("http", "ws") + "/"
        guesses = [f"{number:04}" for number in range(KEY_TRIES + 2)] + ["4711"]
        assert asyncio.run(_try_keys(url, guesses)) == [403] * KEY_TRIES + [429] * 3  # the key too, now
        assert _status_from("127.0.0.1", show.server.port, "/speed?VALUE") == (429, str(int(BLOCK_SECONDS)))
        assert _status_from("127.0.0.1", show.server.port, "/control")[0] == 429
        assert _status_from("127.0.0.2", show.server.port, "/speed?VALUE") == (200, None)  # another address
        assert asyncio.run(_try_keys(url, ["4711"], source="127.0.0.2")) == [101]
        wait_for(lambda: show.server.counts["throttled"] == 5 and show.server.counts["bad key"] == KEY_TRIES)
        wait_for(lambda: "wrong control keys from 127.0.0.1 in 60 s" in caplog.text)
        lines = [record for record in caplog.records if "wrong control keys" in record.getMessage()]
        assert len(lines) == 1  # one line for the burst, not one per guess


def test_read_only_says_so_and_writes_nothing() -> None:
    with running_show(readonly=True) as show:
        assert get(show.url + "/speed?ACCESS") == (200, {"ACCESS": 1})
        assert get(show.url + "/next?ACCESS") == (200, {"ACCESS": 0})
        asyncio.run(write_packets(show.url.replace("http", "ws") + "/", [osc_message("/speed", [3.0])]))
        wait_for(lambda: show.server.counts["refused"] == 1)
        assert show.state().settings.speed == 1.0


def test_only_the_allowed_networks_are_answered() -> None:
    with running_show(allow=networks(["10.0.0.0/8"])) as show:
        assert get(show.url + "/")[0] == 403
        assert get(show.url + "/control")[0] == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            asyncio.run(write_packets(show.url.replace("http", "ws") + "/", []))
        assert refused.value.status == 403


HOSTILE_TEXT = [
    "not json",
    "[" * 5000 + "]" * 5000,
    json.dumps({"COMMAND": "LISTEN", "DATA": "/" + "ü" * 1000}),
    json.dumps({"COMMAND": "LISTEN", "DATA": ["/hue"]}),
    json.dumps({"COMMAND": "LISTEN", "DATA": {"a": [1e308, None]}}),
    json.dumps({"COMMAND": "🙂" * 1000, "DATA": "/hue"}),
    '{"COMMAND": "LISTEN", "DATA": NaN}',
    json.dumps([1, 2, 3]),
]
HOSTILE_PACKETS = [
    osc_message("/speed", [math.nan]),
    osc_message("/speed", [math.inf]),
    osc_message("/hue", [3.0e38]),
    osc_message("/goto", [2**31 - 1]),
    osc_message("/sequence", ["../" * 80]),
    osc_message("/set", ["speed", "fast"]),
    osc_message("/" + "ü" * 2000, [1.0]),
    b"\xff" * 64,
    b"#bundle\x00" + b"\x00" * 8 + b"\x00\x00\x01\x00" + b"\x00" * 12,
    b"",
]


async def _hostile(url: str) -> aiohttp.WSMessage:
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        for text in HOSTILE_TEXT:
            await ws.send_str(text)
        for packet in HOSTILE_PACKETS:
            await ws.send_bytes(packet)
        await ws.send_bytes(b"\x00" * (MAX_MESSAGE + 1))
        return await next_message(ws)


def test_hostile_websocket_messages_are_dropped() -> None:
    with running_show() as show:
        closing = asyncio.run(_hostile(show.url.replace("http", "ws") + "/"))
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
        wait_for(lambda: show.server.counts["ignored"] + show.server.counts["malformed"] >= len(HOSTILE_TEXT) + 4)
        wait_for(lambda: show.state().settings.hue == 180.0 and show.state().conductor.target == 2)  # clamped
        settings = show.state().settings
        for spec in PLAYER_PARAMETERS:
            assert spec.minimum <= getattr(settings, spec.name) <= spec.maximum
        assert get(show.url + "/speed?VALUE") == (200, {"VALUE": [1.0]})


async def _path_events(url: str, switch: object) -> list[dict]:
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await asyncio.get_running_loop().run_in_executor(None, switch)
        return [json.loads((await next_message(ws)).data) for _ in range(2)]


def test_a_sequence_with_another_keyframe_count_changes_the_address_space() -> None:
    with running_show(keyframes=3) as show:
        events = asyncio.run(
            _path_events(
                show.url.replace("http", "ws") + "/",
                lambda: show.on_render_thread(lambda: show.pipeline.show.switch(flat_stage(7, name="seven"))),
            )
        )
        assert events == [{"COMMAND": "PATH_REMOVED", "DATA": "/goto"}, {"COMMAND": "PATH_ADDED", "DATA": "/goto"}]
        assert get(show.url + "/goto?RANGE") == (200, {"RANGE": [{"MIN": 0, "MAX": 6}]})
        assert get(show.url + "/sequence?VALUE") == (200, {"VALUE": ["seven"]})


def test_the_trees_values_are_read_from_the_frames_wire_form() -> None:
    """The web process only gets the frame's wire form: the values it reads from the decoded
    bytes are the show's own."""
    show = Show(flat_stage(4, name="alps"))
    show.parameters.set("hue", 42.0)
    show.conductor.goto(2)
    state = show.advance(1 / 60)
    told = readings(decode(encode(state)))
    assert told == readings(describe(state))
    assert told["/hue"] == [42.0] and told["/goto"] == [state.conductor.index] and told["/sequence"] == ["alps"]
