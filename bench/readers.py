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


# --- readers polling through the edge's cache (python bench/readers.py cache) -------------------
#
# Every reader's widget polls GET /cards/{id} and then GET /cards/{id}/feed every 4-6 s (card.js),
# each kept for a second at the edge (s-maxage=1). A shared cache asks the origin again only for
# the first request after its copy expired; the requests that arrive while that fetch is on its
# way wait for it (CloudFront's request collapsing), so the origin sees about one request per
# key per (s-maxage + fetch time) however many readers there are. stale-while-revalidate changes
# who waits, not that count.

POLL_SECONDS = (4.0, 6.0)  # card.js: 4000 + Math.random() * 2000 ms
KEYS_PER_POLL = 2  # the card JSON and its feed, polled together: the same times, the same count


def poll_times(readers: int, seconds: float, rng) -> list[float]:
    """Every poll of every reader in [0, seconds), each reader at its own phase."""
    low, high = POLL_SECONDS
    times = []
    for _ in range(readers):
        t = rng.uniform(0, high)
        while t < seconds:
            times.append(t)
            t += rng.uniform(low, high)
    times.sort()
    return times


def origin_fetches(times: list[float], ttl: float, fetch_seconds: float, since: float) -> int:
    """How often one shared cache (of one key) asks the origin for these sorted request times,
    counting the fetches made from `since` on (before it, the readers' phases are still settling)."""
    import bisect

    fetches, i = 0, 0
    while i < len(times):
        fetched = times[i]
        fetches += fetched >= since
        # Fresh until the answer is back and its s-maxage has passed; the first request after that fetches.
        i = bisect.bisect_right(times, fetched + fetch_seconds + ttl, i)
    return fetches


def through_the_cache(readers: int, caches: int = 1, seconds: float = 30.0, ttl: float = 1.0,
                      fetch_seconds: float = 0.05, seed: int = 12) -> dict:
    """Origin requests per second for `readers` polling one card, uncached and through `caches`
    independent one-second caches (1: CloudFront with Origin Shield, all edges behind one cache)."""
    import random

    rng = random.Random(seed)
    since = POLL_SECONDS[1]
    per_cache = [readers // caches + (n < readers % caches) for n in range(caches)]
    polls, fetches = 0, 0
    for crowd in per_cache:
        times = poll_times(crowd, seconds, rng)
        polls += sum(1 for t in times if t >= since)
        fetches += origin_fetches(times, ttl, fetch_seconds, since)
    measured = seconds - since
    uncached = KEYS_PER_POLL * polls / measured
    cached = KEYS_PER_POLL * fetches / measured
    return {"readers": readers, "caches": caches, "uncached_per_s": round(uncached, 1),
            "origin_per_s": round(cached, 2), "hit_ratio": round(1 - cached / uncached, 6) if uncached else None}


def main() -> None:
    import argparse
    import json
    from pathlib import Path

    parser = argparse.ArgumentParser(description="Origin requests per second for readers polling a live card "
                                                 "through a one-second shared cache, beside the uncached figure.")
    parser.add_argument("mode", choices=["cache"])
    parser.add_argument("--readers", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--caches", type=int, default=1,
                        help="independent caches the readers are spread over (1: Origin Shield in front)")
    parser.add_argument("--seconds", type=float, default=30.0, help="simulated time (the first 6 s not measured)")
    parser.add_argument("--save", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    rows = [through_the_cache(n, caches=args.caches, seconds=args.seconds) for n in args.readers]
    print(f"{'readers':>10}  {'uncached req/s':>15}  {'origin req/s, 1 s cache':>24}  {'hit ratio':>9}"
          f"   ({args.caches} cache{'s' if args.caches > 1 else ''}; card JSON + feed every 4-6 s)")
    for row in rows:
        print(f"{row['readers']:>10,}  {row['uncached_per_s']:>15,.0f}  {row['origin_per_s']:>24,.2f}  "
              f"{row['hit_ratio']:>9.4%}")
    if args.save:
        args.save.write_text(json.dumps(rows, indent=2) + "\n")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
