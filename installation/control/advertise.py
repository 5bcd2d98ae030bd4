"""The show on zeroconf: ``_oscjson._tcp`` (OSCQuery) and ``_osc._udp`` (OSC), advertised on the
addresses another machine can reach, and kept on them while the show runs.

A gallery machine often starts the show before its network is up, or gets another address from
DHCP weeks later; an advertisement made once would then send phones and controllers to loopback
or to an address that is gone. So the addresses are read again every ``NETWORK_SECONDS``, and
when they change the services are withdrawn and advertised again by a new zeroconf instance,
which also joins the multicast group on interfaces that appeared since.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Callable, Sequence

import ifaddr
from zeroconf import InterfaceChoice, ServiceInfo
from zeroconf.asyncio import AsyncZeroconf

from installation.backoff import Backoff

log = logging.getLogger(__name__)
NETWORK_SECONDS = 10.0
"""How often the machine's addresses are read again."""
RETRY_LIMIT_SECONDS = 300.0
"""The longest pause between two tries of an advertisement that keeps failing (it doubles up to this)."""
NAME_BYTES = 63
"""The longest service instance name DNS takes (one label)."""
GOODBYE_SECONDS = 2.0
"""How long withdrawing may take (zeroconf sends its goodbye three times)."""


def machine_addresses() -> list[str]:
    """This machine's IPv4 addresses now, loopback included."""
    return [ip.ip for adapter in ifaddr.get_adapters() for ip in adapter.ips if isinstance(ip.ip, str)]


def instance_name(hostname: str) -> str:
    """The services' name on the network, cut to what DNS takes (a long host name would fail)."""
    return f"metamorph on {hostname}".encode()[:NAME_BYTES].decode(errors="ignore")


def advertised(host: str, addresses: list[str]) -> list[str]:
    """The IPv4 addresses to advertise: the one the server is bound to, or, bound to every
    interface, those another machine can reach (a remote client that tried 127.0.0.1 would reach
    itself); loopback only when there is nothing else (a show with no network)."""
    if host not in ("", "0.0.0.0", "::"):
        with contextlib.suppress(OSError):
            return [socket.gethostbyname(host)]  # an address stays itself; a name is looked up
    reachable = [address for address in addresses if not ipaddress.ip_address(address).is_loopback]
    return reachable or addresses


class Advertisement:
    """The show's services on zeroconf, following the machine's addresses until withdrawn.

    ``name`` is the services' instance name (``instance_name`` of this host by default); ``on``, the
    interfaces zeroconf speaks on (all by default)."""

    def __init__(
        self,
        host: str,
        services: Sequence[tuple[str, int]],
        addresses: Callable[[], list[str]] = machine_addresses,
        name: str | None = None,
        on: list[str] | None = None,
    ) -> None:
        self._host = host
        self._services = tuple(services)
        self._addresses = addresses
        self._name = name or instance_name(socket.gethostname())
        self._on = on
        self._zeroconf: AsyncZeroconf | None = None
        self.addresses: list[str] = []
        """Where the services are advertised now (empty: nowhere)."""

    async def follow(self, every: float = NETWORK_SECONDS) -> None:
        """Advertise, then advertise again whenever the addresses change, until cancelled. Where
        advertising fails (no IPv4 interface yet, multicast refused) the server still runs; it is
        tried again after ``every`` seconds, then twice as long each time up to RETRY_LIMIT_SECONDS,
        with one warning, and one when it works again."""
        retry = Backoff(every, RETRY_LIMIT_SECONDS)
        failures = 0
        while True:
            wanted = await asyncio.to_thread(lambda: advertised(self._host, self._addresses()))  # DNS may block
            pause = every
            if set(wanted) != set(self.addresses):  # not the order the interfaces were listed in
                try:
                    await self._advertise(wanted)
                except Exception as error:  # zeroconf raises whatever the network gives it
                    failures += 1
                    pause = retry.failed()
                    if failures == 1:
                        log.warning(
                            "zeroconf: the show could not be advertised (%s); reach it by its address (trying again)",
                            error,
                        )
                else:
                    if failures:
                        log.warning("zeroconf: advertised after %d failed tries", failures)
                    failures = 0
                    retry.succeeded()
            await asyncio.sleep(pause)

    async def _advertise(self, addresses: list[str]) -> None:
        await self.withdraw()
        self._zeroconf = AsyncZeroconf(interfaces=self._on or InterfaceChoice.All)
        server = f"{socket.gethostname()}.local."
        for kind, port in self._services:
            info = ServiceInfo(kind, f"{self._name}.{kind}", port=port, parsed_addresses=addresses, server=server)
            await (await self._zeroconf.async_register_service(info, allow_name_change=True))
        self.addresses = addresses
        log.info("zeroconf: advertised %s on %s", ", ".join(kind for kind, _ in self._services), ", ".join(addresses))

    async def withdraw(self) -> None:
        """Say goodbye (browsers drop the services at once) and close zeroconf."""
        zeroconf, self._zeroconf, self.addresses = self._zeroconf, None, []
        if zeroconf is None:
            return
        try:
            await asyncio.wait_for(zeroconf.async_unregister_all_services(), GOODBYE_SECONDS)
        except Exception as error:  # the network it was on may be gone
            log.debug("zeroconf: no goodbye (%s)", error)
        finally:
            await zeroconf.async_close()
