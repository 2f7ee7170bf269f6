"""localstripe as the flash-sale benchmark's buyers and browsers meet it: requests with the
widget's backoff, the secret key's calls retried past 429s, the payers' PaymentMethods, and what
Stripe holds for a card at the end (bench/stripe_sale.py)."""
from __future__ import annotations

import asyncio
import random
import sys
import time

import aiohttp
from tqdm import tqdm

SECRET_KEY = "sk_test_local"  # the local stack's (infra/local/stack.py); localstripe takes any sk_


def backoff(attempt: int) -> float:
    """The widget's: full jitter, exponential from 250 ms, at most 8 s (widgets/card.js)."""
    return random.random() * min(8.0, 0.25 * 2 ** attempt)


def card_number(n: int) -> str:
    """A 16-digit Visa test number (Luhn-valid) that localstripe charges: 4242 + 11 digits + check."""
    body = f"4242{n:011d}"
    total = 0
    for i, digit in enumerate(int(d) for d in reversed(body)):
        digit = digit * 2 if i % 2 == 0 else digit
        total += digit - 9 if digit > 9 else digit
    return body + str((10 - total % 10) % 10)


async def send(session, method: str, url: str, **kwargs) -> tuple[int, dict, dict]:
    """One request; (status, JSON body or {}, headers). A connection error is status 0."""
    try:
        async with session.request(method, url, **kwargs) as response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = {}
            return response.status, body if isinstance(body, dict) else {}, dict(response.headers)
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        return 0, {"error": {"code": type(error).__name__}}, {}


async def all_orders(session, dev: dict, card_id: str) -> list[dict]:
    """Every order of the card, from the seller API, page by page."""
    found, cursor = [], None
    headers = {"Authorization": f"Bearer {dev['seller_api_key']}"}
    while True:
        query = "limit=100" + (f"&cursor={cursor}" if cursor else "")
        status, page, _ = await send(session, "GET", f"{dev['api_url']}/api/cards/{card_id}/orders?{query}", headers=headers)
        if status != 200:
            raise RuntimeError(f"listing orders: {status} {page}")
        found += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def error_code(body: dict) -> str | None:
    return (body.get("error") or {}).get("code")


class Stripe:
    """localstripe, called with the secret key, as the server or (today's design) the browser."""

    def __init__(self, session, base: str):
        self.session, self.base = session, base
        self.rate_limited = 0  # 429s these calls met

    async def counts(self) -> dict:
        return (await send(self.session, "GET", f"{self.base}/_tapcard/requests"))[1]

    async def reset_counts(self) -> None:
        await send(self.session, "DELETE", f"{self.base}/_tapcard/requests")

    async def call(self, path: str, form: dict, tries: int = 20) -> tuple[int, dict]:
        """POST with Stripe's form encoding; a 429 is retried with jittered exponential backoff."""
        headers = {"Authorization": f"Bearer {SECRET_KEY}"}
        for attempt in range(tries):
            status, body, _ = await send(self.session, "POST", self.base + path, data=form, headers=headers)
            if status not in (0, 429):
                return status, body
            self.rate_limited += status == 429
            await asyncio.sleep(backoff(attempt))
        return status, body

    async def everything(self, path: str) -> list[dict]:
        """Every object of a list endpoint (pages of 1,000), read once the counts are taken."""
        found, after = [], None
        while True:
            query = "limit=1000" + (f"&starting_after={after}" if after else "")
            status, page, _ = await send(self.session, "GET", f"{self.base}{path}?{query}",
                                         headers={"Authorization": f"Bearer {SECRET_KEY}"})
            if status == 429:
                await asyncio.sleep(1.0)
                continue
            found += page["data"]
            if not page["has_more"]:
                return found
            after = page["data"][-1]["id"]

    async def money(self, card_id: str) -> dict:
        """What Stripe holds for the card: PaymentIntents charged, and refunded; the orders of the
        charges kept."""
        intents = [i for i in await self.everything("/v1/payment_intents") if i["metadata"].get("card_id") == card_id]
        charged = {i["id"]: i["metadata"].get("order_id") for i in intents if i["status"] == "succeeded"}
        refunded = {r["payment_intent"] for r in await self.everything("/v1/refunds")} & set(charged)
        return {"payment_intents": len(intents), "charged": len(charged), "refunded": len(refunded),
                "charged_and_kept": len(charged) - len(refunded),
                "orders_charged_and_kept": sorted(o for pi, o in charged.items() if pi not in refunded)}


async def make_payment_methods(stripe: Stripe, numbers: list[str], rate: float) -> list[str]:
    """One PaymentMethod per card number. Stripe.js makes these in each buyer's browser with the
    publishable key, outside the account's API limit; localstripe takes the publishable key only on
    /v1/tokens, /v1/sources and intent confirmations (POST /v1/payment_methods with key=pk_… is 401),
    so they are made here with the secret key, before the measured phases, below the rate."""
    made: list[str | None] = [None] * len(numbers)
    gap, next_at, indices = 1 / (rate * 0.9), time.monotonic(), iter(range(len(numbers)))
    progress = tqdm(total=len(numbers), desc="payment methods", unit="pm", file=sys.stderr, mininterval=2)

    async def worker():
        nonlocal next_at
        for i in indices:
            while made[i] is None:
                wait, next_at = next_at - time.monotonic(), max(next_at, time.monotonic()) + gap
                await asyncio.sleep(max(0.0, wait))
                status, body = await stripe.call("/v1/payment_methods", {
                    "type": "card", "card[number]": numbers[i], "card[exp_month]": "12",
                    "card[exp_year]": "2030", "card[cvc]": "123"})
                if status != 200:
                    raise RuntimeError(f"localstripe refused a PaymentMethod: {status} {body}")
                made[i] = body["id"]
            progress.update(1)

    await asyncio.gather(*(worker() for _ in range(8)))
    progress.close()
    return made
