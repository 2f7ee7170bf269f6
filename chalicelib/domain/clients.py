"""Who a client is, for limits that must hold against made-up buyer tokens: the network address
API Gateway saw (requestContext.identity.sourceIp), never a header the caller writes.

An IPv6 subscriber is usually given a whole /64, so one person can take a new address per
request: IPv6 clients are counted by their /64. IPv4 clients by their address; behind a carrier
NAT many readers share one, which is why a cap on open holds is a few units, not one (see
OPEN_HOLDS_PER_LIMIT in config) and paid holds stop counting at once.

A client's rate (reservations a minute) is counted in fixed windows: simple to count in one
DynamoDB item per window, at the price of letting up to twice the rate through across a boundary.

What readers tell us about themselves (a name for the share, a reserver's email) is kept only for
a retention period after the sale (personal_data_until).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress

__all__ = ["client_key", "pseudonym", "digest", "open_holds_cap", "rate_window", "personal_data_until"]


def client_key(source_ip: str | None) -> str:
    """'203.0.113.7', '2001:db8:1:2::/64'; 'unknown' when API Gateway gave nothing usable."""
    try:
        address = ipaddress.ip_address((source_ip or "").strip())
    except ValueError:
        return "unknown"
    if address.version == 6 and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def pseudonym(secret: str, key: str) -> str:
    """What is stored for a client or a payer: a keyed hash, so no table keeps readers' addresses,
    emails or card fingerprints."""
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()[:24]


def digest(secret: str, *parts: str) -> str:
    """A keyed hash of parts, lowercase base32: the ids and tokens tapcard signs (orders, reservations, reminders)."""
    mac = hmac.new(secret.encode(), "\x1f".join(parts).encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode().rstrip("=").lower()


def open_holds_cap(limit_per_buyer: int | None, per_limit: int, without_limit: int) -> int:
    """Units one client may hold unpaid on a card at once: a multiple of the card's per-buyer
    limit, or a fixed few units on a card without one."""
    return limit_per_buyer * per_limit if limit_per_buyer else without_limit


def rate_window(now: int, seconds: int) -> tuple[int, int]:
    """(the start of the fixed window `now` falls in, seconds until the next one begins)."""
    start = now - now % seconds
    return start, start + seconds - now


def personal_data_until(at: int, sale_ends_at: int | None, days: int) -> int:
    """When a reader's name or email given at `at` is forgotten: `days` after the sale ends (after
    `at` on a sale without an end), so refunds and after-sales can still use it until then."""
    return max(at, sale_ends_at or at) + days * 86400
