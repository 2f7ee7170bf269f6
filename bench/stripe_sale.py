"""The flash sale at Stripe's rate limit (issue 14), run by `bench/flash_sale.py --stripe-rate 25`.

Two arms in one run, each on new cards, against the local stack started with
`TAPCARD_STRIPE_RATE_LIMIT=<rate>`:

- "pay call" (dev setting stripe_at_tap false, this design): the tap only holds; each payer calls
  `POST /orders/{id}/pay` with a payment method and waits out `503 payments_busy` (Retry-After).
- "today" (stripe_at_tap true, the design before issue 14): the tap opens the PaymentIntent; a
  `503` (or a canceled order) means tap again with a new key, with the widget's backoff; the
  "browser" sets the payment method on the PaymentIntent and confirms it at Stripe itself, retrying
  Stripe's 429s; the webhook settles the order, which is polled until paid or refunded.

Per arm: (1) the abandoned holds: ~100 holds on a card with the shortest hold, never paid, until
the sweeper has ended them all, and the Stripe requests they cost; (2) the payers' PaymentMethods
(see make_payment_methods); (3) the storm, then every holder but an abandoning share pays, some
with a card another payer used (the per-buyer limit's case). Stripe requests are counted by
localstripe (`/_tapcard/requests`), reset before each measured phase. Afterwards the sale card's
PaymentIntents and refunds at localstripe are set against its orders: every charge kept should be
a paid order.
"""
from __future__ import annotations

import asyncio
import random
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass

import aiohttp
from tqdm import tqdm

from flash_sale import api_call, audit
from local_stripe import Stripe, all_orders, backoff, card_number, error_code, make_payment_methods, send
from readers import Readers

MIN_HOLD_SECONDS = 10  # chalicelib/domain/cards.py
TAP_TRIES = 6


@dataclass
class Hold:
    order_id: str
    token: str
    client_secret: str | None
    held_at: float


class Arm:
    def __init__(self, dev: dict, name: str, stripe_at_tap: bool, args):
        self.dev, self.name, self.stripe_at_tap, self.args = dev, name, stripe_at_tap, args
        self.api = dev["api_url"]
        self.run = secrets.token_hex(3)

    # --- taps ---------------------------------------------------------------------------------

    async def tap_until_held(self, session, card_id: str, buyer: str, taps: Counter) -> Hold | None:
        """One buyer: a new Idempotency-Key per try; 503 (or, today, a canceled order) means the
        hold was not made: back off and tap again, TAP_TRIES at most."""
        for attempt in range(TAP_TRIES):
            status, body, _ = await send(session, "POST", f"{self.api}/cards/{card_id}/checkout",
                                         json={"quantity": 1, "buyer": buyer},
                                         headers={"Idempotency-Key": f"{buyer}-{attempt}"})
            taps[f"{status} {body.get('status') or error_code(body) or ''}".strip()] += 1
            if status == 201 and body.get("status") == "held":
                return Hold(body["order_id"], body["order_token"], body.get("client_secret"), time.perf_counter())
            retry = status in (0, 503) or (status == 201 and body.get("status") == "canceled") \
                or (status == 429 and error_code(body) != "limit_reached")
            if not retry:
                return None
            await asyncio.sleep(backoff(attempt))
        taps["gave up"] += 1
        return None

    async def storm(self, card_id: str, buyers: int, stock: int, concurrency: int, label: str) -> dict:
        """Each buyer taps from its own network address (one per unit of stock, bench/readers.py)."""
        readers = Readers(stock, aiohttp.ClientTimeout(total=90))
        holds: list[Hold] = []
        taps: Counter = Counter()
        indices = iter(range(buyers))
        progress = tqdm(total=buyers, desc=f"{label} {self.name}", unit="buyer", file=sys.stderr, mininterval=2)
        started, all_held_at = time.perf_counter(), None

        async def worker():
            nonlocal all_held_at
            for i in indices:
                hold = await self.tap_until_held(readers.session(i), card_id, f"b_{self.run}_{label}_{i:06d}", taps)
                if hold:
                    holds.append(hold)
                    if len(holds) == stock:
                        all_held_at = hold.held_at
                progress.update(1)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        progress.close()
        await readers.close()
        return {"holds": holds, "taps": taps, "started": started, "all_held_at": all_held_at,
                "finished": time.perf_counter()}

    # --- paying -------------------------------------------------------------------------------

    async def pay_call(self, session, hold: Hold, method: str, outcomes: Counter, trails: dict) -> str | None:
        """This design: the buyer's pay call. Returns the order's status when it is settled."""
        url = f"{self.api}/orders/{hold.order_id}/pay?token={hold.token}"
        for attempt in range(200):
            status, body, headers = await send(session, "POST", url, json={"payment_method": method})
            code = error_code(body)
            answer = f"{status} {body.get('status') or code}"
            outcomes[answer] += 1
            trails.setdefault(hold.order_id, []).append(answer + (f" (order {body['order']['status']})" if status == 200 else ""))
            if status == 200:  # a decline leaves the order held: this payer stops there
                if body["order"]["status"] != "held":
                    return body["order"]["status"]
                return None if body["status"] in ("processing", "requires_action") else body["status"]
            if status == 503 and code == "payments_busy":
                await asyncio.sleep(float(headers.get("Retry-After", 1)) + random.random())
            elif status in (0, 503) or code == "payment_in_progress":
                await asyncio.sleep(backoff(min(attempt, 5)))
            elif code == "already_paid":
                return "paid"
            else:  # limit_reached (refused before any charge), hold_expired, ...
                return code
        return None

    async def browser_confirm(self, stripe: Stripe, hold: Hold, method: str, outcomes: Counter) -> bool:
        """Today's design: Stripe.js confirms the tap's PaymentIntent at Stripe. localstripe cannot
        confirm with a new payment_method, so it is set first, then confirmed."""
        intent = hold.client_secret.split("_secret_")[0]
        status, body = await stripe.call(f"/v1/payment_intents/{intent}", {"payment_method": method})
        if status == 200:
            status, body = await stripe.call(f"/v1/payment_intents/{intent}/confirm", {})
        outcomes[f"{status} {body.get('status') or (body.get('error') or {}).get('message')}"] += 1
        return status == 200 and body.get("status") in ("succeeded", "processing")

    async def settle_watch(self, session, pending: dict[str, Hold], settled: dict, payers_done: asyncio.Event):
        """Polls the orders the webhook should settle until none is held, or nothing has moved for
        settle_timeout seconds after the last payer is done."""
        quiet_since = None
        limit = asyncio.Semaphore(8)

        async def look(hold: Hold):
            async with limit:
                status, body, _ = await send(session, "GET", f"{self.api}/orders/{hold.order_id}?token={hold.token}")
            if status == 200 and body.get("status") != "held" and hold.order_id in pending:
                del pending[hold.order_id]
                settled[hold.order_id] = (body["status"], body.get("status_reason"), time.perf_counter())
                return True
            return False

        while not (payers_done.is_set() and not pending):
            moved = any(await asyncio.gather(*(look(h) for h in list(pending.values()))))
            if payers_done.is_set():
                quiet_since = None if moved else (quiet_since or time.perf_counter())
                if quiet_since and time.perf_counter() - quiet_since > self.args.settle_timeout:
                    break
            await asyncio.sleep(1.0)

    async def pay_phase(self, session, stripe: Stripe, payers: list[tuple[Hold, str]]) -> dict:
        outcomes, settled, pending, trails = Counter(), {}, {}, {}
        payers_done = asyncio.Event()
        watcher = asyncio.create_task(self.settle_watch(session, pending, settled, payers_done))
        queue = iter(payers)
        progress = tqdm(total=len(payers), desc=f"pay {self.name}", unit="payer", file=sys.stderr, mininterval=2)
        started = time.perf_counter()

        async def worker():
            for hold, method in queue:
                if self.stripe_at_tap:
                    if await self.browser_confirm(stripe, hold, method, outcomes):
                        pending[hold.order_id] = hold  # the webhook settles it
                else:
                    final = await self.pay_call(session, hold, method, outcomes, trails)
                    if final:
                        settled[hold.order_id] = (final, None, time.perf_counter())
                    else:
                        pending[hold.order_id] = hold
                progress.update(1)

        await asyncio.gather(*(worker() for _ in range(self.args.pay_concurrency)))
        progress.close()
        payers_done.set()
        await watcher
        return {"started": started, "outcomes": outcomes, "settled": settled, "unsettled": list(pending),
                "trails": trails}

    # --- the phases -----------------------------------------------------------------------------

    async def new_card(self, title: str, stock: int, hold_seconds: int, limit_per_buyer: int | None) -> str:
        body = {"title": title, "image_url": "https://img.example/router.png",
                "price": {"amount": 9900, "currency": "CNY"}, "stock": stock, "hold_seconds": hold_seconds}
        if limit_per_buyer:
            body["limit_per_buyer"] = limit_per_buyer
        return (await asyncio.to_thread(api_call, self.dev, "POST", "/api/cards", body, True))["id"]

    async def quiet_reset(self, stripe: Stripe) -> None:
        await asyncio.sleep(1.5)  # localstripe's bucket refills; late webhooks land
        await stripe.reset_counts()

    async def abandoned_holds(self, session, stripe: Stripe) -> dict:
        """Holds never paid: the Stripe requests each costs until the sweeper has ended it."""
        n = self.args.abandoned_holds
        card_id = await self.new_card(f"Bench abandoned {self.name}", n, MIN_HOLD_SECONDS, None)
        await self.quiet_reset(stripe)
        result = await self.storm(card_id, n, n, 4, "abandon")
        while True:
            status, card, _ = await send(session, "GET", f"{self.api}/cards/{card_id}")
            if status == 200 and card["stock"]["held"] == 0:
                break
            if time.perf_counter() - result["finished"] > MIN_HOLD_SECONDS + 180:
                raise RuntimeError(f"the sweeper left holds on {card_id}: {card.get('stock')}")
            await asyncio.sleep(1.0)
        all_expired = time.perf_counter()
        await asyncio.sleep(2.0)
        counts = await stripe.counts()
        made = len(result["holds"])
        return {"card_id": card_id, "holds": made, "taps": dict(result["taps"]),
                "seconds_until_all_ended": round(all_expired - result["started"], 1),
                "stripe_requests": counts["requests"], "stripe_refused": counts["refused"],
                "stripe_calls_per_abandoned_hold": round(sum(counts["requests"].values()) / made, 2) if made else None}

    def payer_count(self, holders: int) -> int:
        return holders - int(self.args.abandon * holders)

    def plan_payers(self, holds: list[Hold], methods: list[str]) -> list[tuple[Hold, str]]:
        """Who pays, in the order they held; the abandoning share, at random, never does."""
        abandoning = set(random.sample(range(len(holds)), len(holds) - self.payer_count(len(holds))))
        return list(zip((h for i, h in enumerate(holds) if i not in abandoning), methods))

    def card_numbers(self) -> list[str]:
        """As many as could pay; the --same-card share use the number of another payer."""
        count = self.payer_count(self.args.stock)
        salt = random.randrange(10 ** 5)
        numbers = [card_number(salt * 10 ** 6 + i) for i in range(count)]
        picked = random.sample(range(count), 2 * int(self.args.same_card * count))
        for twin, original in zip(picked[::2], picked[1::2]):
            numbers[twin] = numbers[original]
        return numbers

    async def go(self) -> dict:
        args = self.args
        await asyncio.to_thread(api_call, self.dev, "PUT", "/dev/settings",
                                {"stripe_at_tap": self.stripe_at_tap, "stock_cache_seconds": 1.0})
        api_connector = aiohttp.TCPConnector(limit=args.concurrency + args.pay_concurrency + 16, force_close=True)
        timeout = aiohttp.ClientTimeout(total=90)
        async with aiohttp.ClientSession(connector=api_connector, timeout=timeout) as session, \
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.pay_concurrency + 16),
                                      timeout=timeout) as stripe_session:
            stripe = Stripe(stripe_session, self.dev["stripe_api_base"])
            abandoned = await self.abandoned_holds(session, stripe)

            numbers = self.card_numbers()
            methods = await make_payment_methods(stripe, numbers, args.stripe_rate)
            stripe.rate_limited = 0

            card_id = await self.new_card(f"Bench Stripe sale {self.name}", args.stock, args.hold_seconds, 1)
            await self.quiet_reset(stripe)
            storm = await self.storm(card_id, args.buyers, args.stock, args.concurrency, "storm")
            payers = self.plan_payers(storm["holds"], methods)
            paid = await self.pay_phase(session, stripe, payers)
            await asyncio.sleep(2.0)
            counts = await stripe.counts()
            _, card, _ = await send(session, "GET", f"{self.api}/cards/{card_id}")
            orders = await all_orders(session, self.dev, card_id)
            money = await stripe.money(card_id)
        return self.figures(card_id, abandoned, storm, paid, payers, numbers, counts, card, orders, stripe, money)

    def figures(self, card_id, abandoned, storm, paid, payers, numbers, counts, card, orders, stripe, money) -> dict:
        stock, holds = self.args.stock, storm["holds"]
        by_status = Counter(o["status"] for o in orders)
        reasons = Counter(f"{o['status']}: {o['status_reason']}" for o in orders if o.get("status_reason"))
        # The last payer's outcome (paid, refunded or refused); "all paid" only if none is left held.
        last_settled = max((t for _, _, t in paid["settled"].values()), default=None)
        all_paid = last_settled if not paid["unsettled"] else None
        requests = sum(counts["requests"].values())
        sold = card["stock"]["sold"]
        kept = set(money["orders_charged_and_kept"])
        uses = Counter(numbers[:len(payers)])
        same_card = [hold.order_id for (hold, _), number in zip(payers, numbers) if uses[number] > 1]
        since = lambda t, t0: round(t - t0, 1) if t else None  # noqa: E731
        return {
            "stripe_at_tap": self.stripe_at_tap,
            "card_id": card_id,
            "buyers": self.args.buyers,
            "units_held": len(holds),
            "seconds_until_all_held": round(storm["all_held_at"] - storm["started"], 1) if storm["all_held_at"] else None,
            "storm_seconds": round(storm["finished"] - storm["started"], 1),
            "taps": dict(storm["taps"]),
            "payers": len(payers),
            "abandoned": len(holds) - len(payers),
            "payers_with_a_card_already_used": len(payers) - len(uses),
            # Both payers of each shared card: one should be paid, the other refused before any charge.
            "same_card_payers_outcomes": dict(Counter(paid["settled"].get(o, ("still held",))[0] for o in same_card)),
            "seconds_until_all_holders_paid_from_pay_start": since(all_paid, paid["started"]),
            "seconds_until_all_holders_paid_from_storm_start": since(all_paid, storm["started"]),
            "seconds_until_last_settlement_from_pay_start": since(last_settled, paid["started"]),
            "pay_outcomes": dict(paid["outcomes"]),
            "browser_stripe_429s": stripe.rate_limited,
            "settled": dict(Counter(s for s, _, _ in paid["settled"].values())),
            "paid_at_stripe_but_order_still_held": len(paid["unsettled"]),
            "units_sold": sold,
            "oversold": max(0, sold + card["stock"]["held"] - stock, by_status["paid"] - stock),
            "card_stock_after": card["stock"],
            "orders_by_status": dict(by_status),
            "status_reasons": dict(reasons),
            "holds_released_because_of_stripe": reasons["canceled: payments_unavailable"],
            "orders_refunded": by_status["refunded"],
            "stripe_money": {k: v for k, v in money.items() if k != "orders_charged_and_kept"},
            "charged_without_paid_or_refunded_order": money["charged_and_kept"] - by_status["paid"],
            # Orders refunded, or charged with the money kept but not paid (first 20), with this
            # design's pay-call answers.
            "orders_refunded_or_charged_not_paid": {o["order_id"]: {
                "status": o["status"], "status_reason": o.get("status_reason"),
                "pay_call_answers": paid["trails"].get(o["order_id"])} for o in [
                o for o in orders if o["status"] == "refunded"
                or (o["status"] != "paid" and o["order_id"] in kept)][:20]},
            "payments_refused_before_any_charge": paid["outcomes"]["429 limit_reached"],
            "stripe_requests": requests,
            "stripe_requests_by_endpoint": counts["requests"],
            "stripe_429s": sum(counts["refused"].values()),
            "stripe_429s_by_endpoint": {k: v for k, v in counts["refused"].items() if v},
            "stripe_requests_per_unit_sold": round(requests / sold, 2) if sold else None,
            "stripe_requests_per_payment_kept": round(requests / len(kept), 2) if kept else None,
            "stripe_calls_per_abandoned_hold": abandoned["stripe_calls_per_abandoned_hold"],
            "abandoned_holds_phase": abandoned,
            "audit": audit(self.dev, card_id),
        }


ROWS = [
    ("units held", "units_held"),
    ("s until all units held", "seconds_until_all_held"),
    ("s until all holders paid, from pay start", "seconds_until_all_holders_paid_from_pay_start"),
    ("s until all holders paid, from storm start", "seconds_until_all_holders_paid_from_storm_start"),
    ("s until the last settlement, from pay start", "seconds_until_last_settlement_from_pay_start"),
    ("Stripe requests per unit sold", "stripe_requests_per_unit_sold"),
    ("Stripe 429s", "stripe_429s"),
    ("Stripe calls per abandoned hold", "stripe_calls_per_abandoned_hold"),
    ("holds released because of Stripe", "holds_released_because_of_stripe"),
    ("orders refunded (goods gone / over limit)", "orders_refunded"),
    ("payments refused before any charge", "payments_refused_before_any_charge"),
    ("charged, order neither paid nor refunded", "charged_without_paid_or_refunded_order"),
    ("paid at Stripe, order still held", "paid_at_stripe_but_order_still_held"),
    ("units sold", "units_sold"),
    ("oversold", "oversold"),
    ("audit clean", ("audit", "clean")),
]


def side_by_side(pay_call: dict, today: dict) -> str:
    lines = [f"{'':46}{'pay call':>12}{'today':>12}{'ratio':>9}"]
    for label, key in ROWS:
        a, b = ((r[key[0]][key[1]] if isinstance(key, tuple) else r[key]) for r in (pay_call, today))
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
        ratio = f"{a / b:.2f}" if numbers and b else "-"
        lines.append(f"{label:46}{'-' if a is None else str(a):>12}{'-' if b is None else str(b):>12}{ratio:>9}")
    return "\n".join(lines)


def main(args, dev: dict) -> dict:
    """Both arms, "pay call" first (it leaves no Stripe work behind); the dev settings reset after."""
    results = {"config": {k: v for k, v in vars(args).items() if k not in ("json", "dev_json")}}
    try:
        for key, stripe_at_tap in (("pay_call", False), ("today", True)):
            results[key] = asyncio.run(Arm(dev, key, stripe_at_tap, args).go())
    finally:
        api_call(dev, "PUT", "/dev/settings", {"stripe_at_tap": False, "stock_cache_seconds": 1.0})
    return results
