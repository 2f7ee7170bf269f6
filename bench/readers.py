"""Readers on their own networks: HTTP sessions bound to many loopback addresses (127.0.1.1,
127.0.1.2, ...). The local API takes requestContext.identity.sourceIp from the TCP peer, as API
Gateway does, so each address is one client to tapcard's cap on open holds (too_many_holds).
Linux routes all of 127.0.0.0/8 to the loopback interface: no setup is needed."""
from __future__ import annotations

import aiohttp


def address(n: int) -> str:
    """The n-th reader address (n from 0), never 127.0.0.1, the stack's own."""
    n += 256 + 1
    return f"127.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


class Readers:
    """Reader i taps from address i % count. The storms use count = stock: about one hold per
    address, like readers each on their own network, well within the cap (3 units per address
    with a limit of 1, 10 without a limit)."""

    def __init__(self, count: int, timeout: aiohttp.ClientTimeout, first: int = 0):
        """first: the first address's number, so two crowds never share an address."""
        self.count, self.timeout, self.first = max(1, count), timeout, first
        self._sessions: dict[int, aiohttp.ClientSession] = {}

    def session(self, reader: int) -> aiohttp.ClientSession:
        slot = reader % self.count
        if slot not in self._sessions:
            connector = aiohttp.TCPConnector(local_addr=(address(self.first + slot), 0), force_close=True, limit=0)
            self._sessions[slot] = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
        return self._sessions[slot]

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()
