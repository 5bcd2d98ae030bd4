"""Zeroconf follows the network: the addresses another machine can reach, advertised again when they
change (a show started before its network, an address from DHCP), seen by a real browser."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

from installation.control.advertise import Advertisement, advertised
from tests.control.showserver import wait_for

KIND = "_oscjson._tcp.local."


def test_the_addresses_other_machines_can_reach() -> None:
    assert advertised("127.0.0.1", ["127.0.0.1", "192.168.1.20"]) == ["127.0.0.1"]  # bound to one: that one
    assert advertised("0.0.0.0", ["127.0.0.1", "192.168.1.20", "10.0.0.5"]) == ["192.168.1.20", "10.0.0.5"]
    assert advertised("0.0.0.0", ["127.0.0.1"]) == ["127.0.0.1"]  # no network: loopback is all there is
    assert advertised("localhost", ["127.0.0.1", "192.168.1.20"]) == ["127.0.0.1"]  # a name is looked up
    assert advertised("::", ["127.0.0.1", "192.168.1.20"]) == ["192.168.1.20"]


class _Following:
    """An advertisement following ``addresses`` (changed by the test) on an event loop of its own."""

    def __init__(self, advertisement: Advertisement) -> None:
        self.advertisement = advertisement
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._task = asyncio.run_coroutine_threadsafe(self._follow(), self._loop)

    async def _follow(self) -> None:
        await self.advertisement.follow(every=0.2)

    def close(self) -> None:
        self._task.cancel()
        asyncio.run_coroutine_threadsafe(self.advertisement.withdraw(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@pytest.mark.slow
def test_a_show_started_before_its_network_is_found_at_the_address_it_gets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    network = ["127.0.0.1"]  # no network yet: loopback only
    events: list[ServiceStateChange] = []
    names: list[str] = []

    def heard(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        events.append(state_change)
        names.append(name)

    browser = Zeroconf(interfaces=["127.0.0.1"])
    following = _Following(Advertisement("0.0.0.0", [(KIND, 48_080)], lambda: list(network)))
    try:
        ServiceBrowser(browser, KIND, handlers=[heard])

        def addresses() -> list[str]:
            info = browser.get_service_info(KIND, names[-1], 500) if names else None
            return info.parsed_addresses() if info is not None and info.port == 48_080 else []

        wait_for(lambda: addresses() == ["127.0.0.1"], 20)
        network.append("10.77.0.2")  # DHCP answered: the address other machines reach
        wait_for(lambda: addresses() == ["10.77.0.2"], 20)
        assert ServiceStateChange.Removed in events  # the old address was withdrawn, not left to expire
        network[1:] = ["10.77.0.3"]  # a new lease weeks later
        wait_for(lambda: addresses() == ["10.77.0.3"], 20)
        wait_for(lambda: following.advertisement.addresses == ["10.77.0.3"])  # its announcements done
    finally:
        following.close()
        browser.close()
    assert "zeroconf: advertised _oscjson._tcp.local. on 10.77.0.3" in caplog.text
    assert following.advertisement.addresses == []
