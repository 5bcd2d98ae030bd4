"""The server among many: zeroconf discovery on loopback (the web process's log in the show's),
and a thousand idle websockets."""

from __future__ import annotations

import asyncio
import logging
import threading

import aiohttp
import pytest
from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

from installation.control.webserver import MAX_SOCKETS
from tests.control.showserver import get, running_show
from tests.helpers import wait_for

SERVICES = ("_oscjson._tcp.local.", "_osc._udp.local.")


@pytest.mark.slow
def test_zeroconf_advertises_both_services_and_withdraws_them(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    seen: dict[tuple[str, ServiceStateChange], str] = {}
    lock = threading.Lock()

    def heard(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        with lock:
            seen[(service_type, state_change)] = name

    browser = Zeroconf(interfaces=["127.0.0.1"])
    try:
        ServiceBrowser(browser, list(SERVICES), handlers=[heard])
        with running_show(advertise=True, osc_port=8000) as show:
            wait_for(lambda: all((kind, ServiceStateChange.Added) in seen for kind in SERVICES))
            info = browser.get_service_info(SERVICES[0], seen[(SERVICES[0], ServiceStateChange.Added)], 3000)
            assert info is not None and info.port == show.server.port and "127.0.0.1" in info.parsed_addresses()
            udp = browser.get_service_info(SERVICES[1], seen[(SERVICES[1], ServiceStateChange.Added)], 3000)
            assert udp is not None and udp.port == 8000
            wait_for(lambda: "zeroconf: advertised _oscjson._tcp.local., _osc._udp.local." in caplog.text)
            assert any(record.name == "installation.control.advertise" for record in caplog.records)  # web process
        wait_for(lambda: all((kind, ServiceStateChange.Removed) in seen for kind in SERVICES))
    finally:
        browser.close()


async def _crowd(url: str, count: int) -> tuple[int, list[int]]:
    """Open ``count`` websockets that never say a word: how many were taken, and the refusals' status."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        tries = await asyncio.gather(*(session.ws_connect(url) for _ in range(count)), return_exceptions=True)
        sockets = [result for result in tries if isinstance(result, aiohttp.ClientWebSocketResponse)]
        refused = [result.status for result in tries if isinstance(result, aiohttp.WSServerHandshakeError)]
        async with session.get(url.replace("ws", "http") + "speed?VALUE") as answer:
            assert answer.status == 200 and await answer.json() == {"VALUE": [1.0]}
        await asyncio.gather(*(socket_.close() for socket_ in sockets))
        return len(sockets), refused


@pytest.mark.slow
def test_a_thousand_idle_websockets_are_held_or_refused_and_the_show_answers() -> None:
    with running_show() as show:
        taken, refused = asyncio.run(_crowd(show.url.replace("http", "ws") + "/", 1000))
        assert taken == MAX_SOCKETS and refused == [503] * (1000 - MAX_SOCKETS)
        wait_for(lambda: show.server.connected == 0)
        assert get(show.url + "/speed?VALUE") == (200, {"VALUE": [1.0]})
