"""Zeroconf follows the network: the addresses another machine can reach, advertised again when they
change (a show started before its network, an address from DHCP), seen by a real browser; an
advertisement that fails warns once and is tried less and less often. The advertisements here
speak on loopback only, under a name no show uses."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable

import pytest
from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

from installation.control.advertise import NAME_BYTES, Advertisement, advertised, instance_name
from tests.helpers import wait_for

KIND = "_oscjson._tcp.local."


def test_the_addresses_other_machines_can_reach() -> None:
    assert advertised("127.0.0.1", ["127.0.0.1", "192.168.1.20"]) == ["127.0.0.1"]  # bound to one: that one
    assert advertised("0.0.0.0", ["127.0.0.1", "192.168.1.20", "10.0.0.5"]) == ["192.168.1.20", "10.0.0.5"]
    assert advertised("0.0.0.0", ["127.0.0.1"]) == ["127.0.0.1"]  # no network: loopback is all there is
    assert advertised("localhost", ["127.0.0.1", "192.168.1.20"]) == ["127.0.0.1"]  # a name is looked up
    assert advertised("::", ["127.0.0.1", "192.168.1.20"]) == ["192.168.1.20"]


def test_a_long_host_name_is_cut_to_what_dns_takes() -> None:
    assert instance_name("gallery") == "metamorph on gallery"
    cut = instance_name("ausstellungsraum-" + "ä" * 40)
    assert len(cut.encode()) <= NAME_BYTES and cut.startswith("metamorph on ausstellungsraum-ää")


class _Following:
    """An advertisement following its addresses on an event loop of its own."""

    def __init__(self, advertisement: Advertisement, every: float) -> None:
        self.advertisement = advertisement
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._task = asyncio.run_coroutine_threadsafe(advertisement.follow(every), self._loop)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._task.cancel)
        asyncio.run_coroutine_threadsafe(self.advertisement.withdraw(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


def _advertisement(addresses: Callable[[], list[str]], kind: str = KIND) -> Advertisement:
    name = f"metamorph test {uuid.uuid4().hex[:8]}"
    return Advertisement("0.0.0.0", [(kind, 48_080)], addresses, name=name, on=["127.0.0.1"])


@pytest.mark.slow
def test_a_show_started_before_its_network_is_found_at_the_address_it_gets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    network = ["127.0.0.1"]  # no network yet: loopback only
    advertisement = _advertisement(lambda: list(network))
    mine = f"{advertisement._name}.{KIND}"
    events: list[ServiceStateChange] = []

    def heard(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if name == mine:
            events.append(state_change)

    def addresses() -> list[str]:
        info = browser.get_service_info(KIND, mine, 500)
        return info.parsed_addresses() if info is not None else []

    browser = Zeroconf(interfaces=["127.0.0.1"])
    following = _Following(advertisement, every=0.2)
    try:
        ServiceBrowser(browser, KIND, handlers=[heard])
        wait_for(lambda: addresses() == ["127.0.0.1"], 20)
        network.append("10.77.0.2")  # DHCP answered: the address other machines reach
        wait_for(lambda: addresses() == ["10.77.0.2"], 20)
        assert ServiceStateChange.Removed in events  # the old address was withdrawn, not left to expire
        network[1:] = ["10.77.0.3"]  # a new lease weeks later
        wait_for(lambda: addresses() == ["10.77.0.3"], 20)
        wait_for(lambda: advertisement.addresses == ["10.77.0.3"])  # its announcements done
    finally:
        following.close()
        browser.close()
    assert "zeroconf: advertised _oscjson._tcp.local. on 10.77.0.3" in caplog.text
    assert advertisement.addresses == []


def test_an_advertisement_that_fails_warns_once_and_is_tried_less_often(caplog: pytest.LogCaptureFixture) -> None:
    advertisement = _advertisement(lambda: ["127.0.0.1"], kind="_not-a-service-type.local.")
    tries: list[list[str]] = []
    advertise = advertisement._advertise

    async def counted(addresses: list[str]) -> None:
        tries.append(addresses)
        await advertise(addresses)

    advertisement._advertise = counted  # type: ignore[method-assign]
    following = _Following(advertisement, every=0.05)
    try:
        wait_for(lambda: len(tries) >= 3)
        threading.Event().wait(1.0)  # tried at 0, 0.05, 0.15, 0.35, 0.75, 1.55 s: not every 0.05 s
    finally:
        following.close()
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1 and "must end with '._tcp.local.' or '._udp.local.'" in warnings[0]
    assert 3 <= len(tries) <= 8 and advertisement.addresses == []
