"""Bots against people in one flash sale, on the running local stack (`make run`), over HTTP.

A card of 500 units with `limit_per_buyer: 1`. 20 bot addresses each cycle 500 made-up buyer
tokens as fast as the API answers (a few taps in flight per bot), and pay every hold they get with
their one card; a hold they cannot pay (the card's limit) they keep until it runs out. 5,000 people
on 500 other addresses (ten behind each, as behind a carrier NAT) arrive over the first seconds and
do what the card does for them: tap, back off on 503 and on 429 too_many_holds, pay with their own
card, and while the card says units may come back (held > 0), look again every few seconds.

It prints, and writes as JSON, units paid and held by people and by bots, oversold (0), the
answers each side got and the audit. Target: people get at least 95% of the units, bots at most 5%.

    .venv/bin/python bench/bot_storm.py [--people 5000] [--bots 20] [--stock 500] [--hold-seconds 60]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import aiohttp

from flash_sale import api_call, audit
from local_stripe import Stripe, all_orders, backoff, card_number, error_code, send
from readers import Readers

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BOT_TOKENS = 500


class Sale:
    def __init__(self, dev: dict, args, card_id: str, stripe: Stripe):
        self.dev, self.args, self.card_id, self.stripe = dev, args, card_id, stripe
        self.api = dev["api_url"]
        self.over = asyncio.Event()
        self.answers = {"people": Counter(), "bots": Counter()}
        self.orders = {"people": set(), "bots": set()}
        self.bot_holds_open: list[float] = []  # when each unpaid bot hold runs out (epoch seconds)
        self.bot_holds_peak = 0
        self.cards_made = 0
        self.sold_out_at: float | None = None

    async def tap(self, session, side: str, buyer: str, key: str) -> tuple[int, dict, dict]:
        status, body, headers = await send(session, "POST", f"{self.api}/cards/{self.card_id}/checkout",
                                           json={"quantity": 1, "buyer": buyer}, headers={"Idempotency-Key": key})
        self.answers[side][f"{status} {body.get('status') or error_code(body) or ''}".strip()] += 1
        if status == 201:
            self.orders[side].add(body["order_id"])
        return status, body, headers

    async def pay(self, session, order: dict, method: str) -> str | None:
        """The pay call, waiting out payments_busy; the order's status, or the refusal's code."""
        url = f"{self.api}/orders/{order['order_id']}/pay?token={order['order_token']}"
        for attempt in range(60):
            status, body, headers = await send(session, "POST", url, json={"payment_method": method})
            if status == 200:
                return body["order"]["status"]
            if status in (0, 503) or error_code(body) == "payment_in_progress":
                await asyncio.sleep(float(headers.get("Retry-After", 0)) + backoff(min(attempt, 4)))
                continue
            return error_code(body)
        return None

    async def payment_method(self, n: int) -> str:
        status, body = await self.stripe.call("/v1/payment_methods", {
            "type": "card", "card[number]": card_number(n), "card[exp_month]": "12",
            "card[exp_year]": "2030", "card[cvc]": "123"})
        if status != 200:
            raise RuntimeError(f"localstripe refused a PaymentMethod: {status} {body}")
        return body["id"]

    async def stock(self, session) -> dict:
        status, card, _ = await send(session, "GET", f"{self.api}/cards/{self.card_id}")
        return card["stock"] if status == 200 else {"available": 1, "held": 1}

    # --- the two sides ------------------------------------------------------------------------

    async def bot(self, session, n: int, method: str) -> None:
        """One tap loop of bot n: a new made-up token each tap, its tokens reused in a cycle."""
        tap = 0
        while not self.over.is_set():
            tap += 1
            buyer = f"bot_{n:02d}_{tap % BOT_TOKENS:04d}_{random.randrange(10 ** 6)}"[:40]
            status, body, _ = await self.tap(session, "bots", buyer, f"bot-{n}-{tap}-{random.randrange(10 ** 9)}")
            if status == 201:
                now = time.time()
                self.bot_holds_open = [ends for ends in self.bot_holds_open if ends > now]
                self.bot_holds_peak = max(self.bot_holds_peak, len(self.bot_holds_open) + 1)
                if await self.pay(session, body, method) != "paid":
                    ends = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")).timestamp()
                    self.bot_holds_open.append(ends)
            else:
                await asyncio.sleep(0.05)  # a bot does not wait long; it is bounded here only to spare the machine

    async def person(self, session, n: int, gate: asyncio.Semaphore) -> None:
        await asyncio.sleep(random.random() * self.args.ramp_seconds)
        buyer, attempt, look = f"person_{n:05d}_{random.randrange(10 ** 6)}", 0, 0
        while not self.over.is_set():
            async with gate:
                status, body, headers = await self.tap(session, "people", buyer, f"{buyer}-{look}-{attempt}")
            code = error_code(body)
            if status == 201:
                method = await self.payment_method(self.args.seed + n)
                async with gate:
                    outcome = await self.pay(session, body, method)
                if outcome == "paid":
                    return
                attempt, look = 0, look + 1  # the hold ran out or the payment failed: back to the card
            elif status in (0, 503) or (status == 429 and code != "limit_reached"):
                attempt += 1
                await asyncio.sleep(backoff(min(attempt, 6)) + float(headers.get("Retry-After", 0)) * random.random())
                continue
            elif status == 409 and code == "sold_out":
                stock = await self.stock(session)
                if stock["held"] == 0 and stock["available"] == 0:
                    return  # sold out for good
                await asyncio.sleep(4 + 2 * random.random())  # "may come back": the card's next poll
            else:
                return
            attempt = 0

    async def watch(self, session) -> None:
        """The sale is over when every unit is sold, or at the deadline."""
        started = time.perf_counter()
        while time.perf_counter() - started < self.args.deadline_seconds:
            stock = await self.stock(session)
            if stock["available"] == 0 and stock["held"] == 0:
                self.sold_out_at = time.perf_counter() - started
                break
            await asyncio.sleep(1.0)
        self.over.set()

    async def go(self, bot_methods: list[str]) -> None:
        timeout = aiohttp.ClientTimeout(total=60)
        people = Readers(self.args.people_addresses, timeout, first=self.args.bots)
        bots = Readers(self.args.bots, timeout)
        gate = asyncio.Semaphore(self.args.concurrency)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            tasks = [asyncio.create_task(self.watch(session))]
            tasks += [asyncio.create_task(self.bot(bots.session(b), b, bot_methods[b]))
                      for b in range(self.args.bots) for _ in range(self.args.taps_in_flight_per_bot)]
            tasks += [asyncio.create_task(self.person(people.session(n), n, gate)) for n in range(self.args.people)]
            await tasks[0]
            await asyncio.gather(*tasks[1:])
        await people.close()
        await bots.close()


async def run(dev: dict, args) -> dict:
    await asyncio.to_thread(api_call, dev, "PUT", "/dev/settings", {"stripe_at_tap": False, "stock_cache_seconds": 1.0})
    card = await asyncio.to_thread(api_call, dev, "POST", "/api/cards", {
        "title": "Bench bot storm", "image_url": "https://img.example/router.png",
        "price": {"amount": 1800, "currency": "EUR"}, "stock": args.stock, "hold_seconds": args.hold_seconds,
        "limit_per_buyer": 1}, True)
    async with aiohttp.ClientSession() as stripe_session:
        stripe = Stripe(stripe_session, dev["stripe_api_base"])
        sale = Sale(dev, args, card["id"], stripe)
        bot_methods = [await sale.payment_method(args.seed + args.people + b) for b in range(args.bots)]
        began = time.perf_counter()
        await sale.go(bot_methods)
        seconds = time.perf_counter() - began
    async with aiohttp.ClientSession() as session:
        orders = await all_orders(session, dev, card["id"])
    return figures(args, sale, orders, seconds, await asyncio.to_thread(audit, dev, card["id"]))


def figures(args, sale: Sale, orders: list[dict], seconds: float, audit_report: dict) -> dict:
    units = {side: Counter() for side in ("people", "bots")}
    for order in orders:
        side = "bots" if order["order_id"] in sale.orders["bots"] else "people"
        units[side][order["status"]] += order["quantity"]
    paid = {side: units[side]["paid"] for side in units}
    return {
        "stock": args.stock, "people": args.people, "people_addresses": args.people_addresses,
        "bots": args.bots, "bot_tokens_each": BOT_TOKENS, "hold_seconds": args.hold_seconds,
        "seconds": round(seconds, 1), "seconds_until_sold_out": round(sale.sold_out_at, 1) if sale.sold_out_at else None,
        "units_paid": paid, "units_held_at_end": {side: units[side]["held"] for side in units},
        "share_paid_by_people": round(paid["people"] / args.stock, 4),
        "share_paid_by_bots": round(paid["bots"] / args.stock, 4),
        # Bot holds unpaid and not yet run out, at the moment of each new bot hold, at most.
        "bot_holds_at_once_peak": sale.bot_holds_peak,
        "oversold": max(0, sum(paid.values()) - args.stock),
        "orders_by_status": {side: dict(units[side]) for side in units},
        "answers": {side: dict(sale.answers[side].most_common()) for side in sale.answers},
        "audit": audit_report,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--people-addresses", type=int, default=500)
    parser.add_argument("--bots", type=int, default=20)
    parser.add_argument("--taps-in-flight-per-bot", type=int, default=3)
    parser.add_argument("--stock", type=int, default=500)
    parser.add_argument("--hold-seconds", type=int, default=60)
    parser.add_argument("--ramp-seconds", type=float, default=10.0, help="people arrive over this many seconds")
    parser.add_argument("--concurrency", type=int, default=64, help="people's requests in flight at most")
    parser.add_argument("--deadline-seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=random.randrange(10 ** 8), help="card numbers start here")
    parser.add_argument("--dev-json", default=os.environ.get("TAPCARD_DEV_JSON", str(ROOT / ".tapcard-dev.json")))
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "bot_storm.json"))
    args = parser.parse_args()
    os.environ["TAPCARD_DEV_JSON"] = args.dev_json  # for audit()
    dev = json.loads(Path(args.dev_json).read_text())
    results = asyncio.run(run(dev, args))
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(f"units paid   people {results['units_paid']['people']:>5}  bots {results['units_paid']['bots']:>5}"
          f"   ({results['share_paid_by_people']:.1%} / {results['share_paid_by_bots']:.1%} of {args.stock})")
    print(f"held at end  people {results['units_held_at_end']['people']:>5}  bots {results['units_held_at_end']['bots']:>5}"
          f"   bots' holds at once, at most: {results['bot_holds_at_once_peak']}")
    print(f"oversold {results['oversold']}; audit clean: {results['audit']['clean']} {results['audit']['problems']}")
    print(f"sold out after {results['seconds_until_sold_out']} s; run {results['seconds']} s; written to {args.json}")
    print("answers:", json.dumps(results["answers"]))
    ok = results["oversold"] == 0 and results["audit"]["clean"] and results["share_paid_by_people"] >= 0.95
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
