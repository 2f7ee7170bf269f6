"""The whole loop over HTTP against the real local stack: moto server, localstripe, chalice local,
the stream poller and the sweeper, exactly as `make run` starts them."""
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests
import stripe

CLOSE = {"Connection": "close"}


def wait_until(check, timeout=20.0, every=0.25):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up after {timeout}s waiting for {check.__doc__ or check}")


@pytest.fixture
def api(live_stack):
    session = requests.Session()
    session.headers.update(CLOSE)
    base = live_stack["api_url"]

    class Api:
        url = base

        def get(self, path, **kw):
            return session.get(base + path, timeout=10, **kw)

        def post(self, path, **kw):
            return session.post(base + path, timeout=10, **kw)

        def create_card(self, **fields):
            body = {"title": "E2E Lamp", "description": "A lamp.", "image_url": "https://img.example/lamp.png",
                    "price": {"amount": 2500, "currency": "USD"}, "stock": 5, **fields}
            r = self.post("/api/cards", json=body,
                          headers={"Authorization": f"Bearer {live_stack['seller_api_key']}"})
            assert r.status_code == 201, r.text
            return r.json()

        def checkout(self, card_id, key, buyer="buyer_e2e_0001", quantity=1):
            return self.post(f"/cards/{card_id}/checkout", json={"quantity": quantity, "buyer": buyer},
                             headers={"Idempotency-Key": key})

        def pay(self, order, payment_method="pm_card_visa", token=None):
            """The card's pay call, as the dev stage's TEST MODE sheet makes it."""
            return self.post(f"/orders/{order['order_id']}/pay", params={"token": token or order["order_token"]},
                             json={"payment_method": payment_method, "amount": order["amount"], "currency": order["currency"]})

        def order(self, order):
            return self.get(f"/orders/{order['order_id']}", params={"token": order["order_token"]}).json()

        def stock(self, card_id):
            return self.get(f"/cards/{card_id}").json()["stock"]

    return Api()


@pytest.fixture
def stripe_client(live_stack):
    return stripe.StripeClient("sk_test_local", base_addresses={"api": live_stack["stripe_api_base"]})


def intents_of(stripe_client, order):
    """The PaymentIntents localstripe has for this order: every payment made or tried."""
    return [intent for intent in stripe_client.v1.payment_intents.list({"limit": 100}).auto_paging_iter()
            if (intent.to_dict().get("metadata") or {}).get("order_id") == order["order_id"]]


def test_health_answers_when_the_stack_is_up(api):
    assert api.get("/health").status_code == 200


def test_card_checkout_pay_and_automatic_share(api, stripe_client, live_stack):
    card = api.create_card()
    order = api.checkout(card["id"], "e2e-happy-path-1").json()
    assert order["status"] == "held" and order["client_secret"] is None  # the tap made no PaymentIntent
    assert intents_of(stripe_client, order) == []
    assert api.stock(card["id"]) == {"available": 4, "sold": 0, "held": 1}
    assert api.pay(order, token="not-the-token").status_code == 404

    answer = api.pay(order)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "succeeded" and body["client_secret"] is None
    paid_order = body["order"]
    assert paid_order["status"] == "paid" == api.order(order)["status"]
    assert paid_order["share_url"].endswith(f"/p/{card['id']}?ref={paid_order['referral_code']}")
    assert api.stock(card["id"]) == {"available": 4, "sold": 1, "held": 0}
    [intent] = intents_of(stripe_client, order)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 2500, "usd")
    again = api.pay(order)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_paid"
    assert len(intents_of(stripe_client, order)) == 1  # nothing more charged

    def shared():
        """the stream handler posts the share to the card's feed"""
        return api.get(f"/cards/{card['id']}/feed").json()["items"]

    items = wait_until(shared)
    assert len(items) == 1 and paid_order["share_url"] in items[0]["text"]

    def received():
        """the seller's webhook receiver gets the same share, signed"""
        got = requests.get(live_stack["share_receiver_url"], headers=CLOSE, timeout=5).json()
        return [r for r in got if r["payload"]["data"].get("order_id") == order["order_id"]]

    assert len(wait_until(received)) == 1
    time.sleep(1.5)  # the poller keeps polling: the share must still be there once
    assert len(api.get(f"/cards/{card['id']}/feed").json()["items"]) == 1


def test_a_declined_card_keeps_the_hold_and_another_card_pays(api, stripe_client):
    card = api.create_card(stock=1)
    order = api.checkout(card["id"], "e2e-decline-1").json()
    assert api.checkout(card["id"], "e2e-decline-2", buyer="buyer_e2e_0002").json()["error"]["code"] == "sold_out"

    declined = api.pay(order, "pm_card_chargeCustomerFail")

    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "failed" and declined.json()["reason"] == "Your card was declined."
    assert declined.json()["order"]["status"] == "held"
    time.sleep(2)  # localstripe's payment_failed webhook arrives: it must not release the hold
    assert api.order(order)["status"] == "held"
    assert api.stock(card["id"]) == {"available": 0, "sold": 0, "held": 1}
    assert api.checkout(card["id"], "e2e-decline-3", buyer="buyer_e2e_0003").json()["error"]["code"] == "sold_out"

    paid = api.pay(order)

    assert paid.status_code == 200 and paid.json()["status"] == "succeeded", paid.text
    assert api.order(order)["status"] == "paid"
    assert api.stock(card["id"]) == {"available": 0, "sold": 1, "held": 0}
    assert sorted(intent.status for intent in intents_of(stripe_client, order)) == ["requires_payment_method", "succeeded"]


def test_unpaid_hold_expires_and_the_card_is_live_again(api, stripe_client):
    card = api.create_card(stock=1, hold_seconds=10)
    order = api.checkout(card["id"], "e2e-expire-1").json()
    assert api.get(f"/cards/{card['id']}").json()["sale"]["state"] == "sold_out"

    def expired():
        """the sweeper expires the hold"""
        return api.order(order)["status"] == "expired"

    wait_until(expired, timeout=30)
    late = api.pay(order)
    assert late.status_code == 409 and late.json()["error"]["code"] == "hold_expired"
    assert intents_of(stripe_client, order) == []  # refused before any money moved

    def live_again():
        """the API's stock cache (a second at most) sees the unit back"""
        return api.get(f"/cards/{card['id']}").json()["sale"]["state"] == "live"

    wait_until(live_again, timeout=5)
    assert api.stock(card["id"]) == {"available": 1, "sold": 0, "held": 0}


def audit(live_stack, card_id):
    """The ops CLI's audit against the stack's tables."""
    import json as json_module
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    dev_json = root / "test-artifacts" / "e2e-stack.json"
    dev_json.write_text(json_module.dumps(live_stack))
    done = subprocess.run([sys.executable, "ops.py", "--local", "--dev-json", str(dev_json), "audit", card_id],
                          cwd=root, capture_output=True, text=True, timeout=60)
    return done.returncode, json_module.loads(done.stdout)


def tap_from(api_url: str, address: str, card_id: str, buyer: str, key: str) -> tuple[int, dict]:
    """A tap from a TCP connection bound to this loopback address: a reader on its own network."""
    import http.client
    import json

    host, port = api_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(address, 0))
    try:
        connection.request("POST", f"/cards/{card_id}/checkout", json.dumps({"quantity": 1, "buyer": buyer}),
                           {"Content-Type": "application/json", "Idempotency-Key": key, "Connection": "close"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_a_rush_of_buyers_with_limits_and_double_taps_never_oversells(api, live_stack):
    stock, buyers, limit = 15, 20, 2
    card = api.create_card(stock=stock, limit_per_buyer=limit, shards=3)

    def buyer_taps(b):
        """Each buyer taps three times (one over the limit), each tap sent twice, from its own address."""
        statuses, orders = [], set()
        for t in range(3):
            for _ in range(2):
                status, body = tap_from(live_stack["api_url"], f"127.0.8.{b + 1}", card["id"],
                                        f"buyer_rush_{b:04d}", f"e2e-rush-{b:03d}-{t}")
                statuses.append(status)
                if status == 201:
                    orders.add(body["order_id"])
        return statuses, orders

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(buyer_taps, range(buyers)))
    orders = [o for _, buyer_orders in results for o in buyer_orders]
    assert len(orders) == len(set(orders)) == stock
    assert all(len(buyer_orders) <= limit for _, buyer_orders in results)
    assert {s for statuses, _ in results for s in statuses} <= {201, 409, 429}
    assert api.stock(card["id"]) == {"available": 0, "sold": 0, "held": stock}
    code, report = audit(live_stack, card["id"])
    assert code == 0 and report["clean"], report


def test_upcoming_sale_refuses_checkout_over_http(api):
    start = datetime.now(timezone.utc) + timedelta(hours=1)
    card = api.create_card(sale={"starts_at": start.isoformat()})
    r = api.checkout(card["id"], "e2e-early-1")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_started"


def test_the_social_loop_on_the_stack_mastodon_bluesky_referral_and_reservation(api, live_stack, stripe_client):
    auth = {"Authorization": f"Bearer {live_stack['seller_api_key']}"}
    social = live_stack["social_url"]
    card = api.create_card(stock=10)
    for channel in ({"type": "mastodon", "instance": social, "access_token": "mastodon-token-ok"},
                    {"type": "bluesky", "service": social, "identifier": "ada.test", "app_password": "app-pass-1234"}):
        r = api.post(f"/api/cards/{card['id']}/channels", json=channel, headers=auth)
        assert r.status_code == 201, r.text

    first = api.checkout(card["id"], "e2e-social-1", buyer="buyer_e2e_social_1").json()
    assert api.pay(first).json()["status"] == "succeeded"
    share_url = wait_until(lambda: api.order(first).get("share_url"))
    code = share_url.split("ref=")[1]
    assert api.get(f"/p/{card['id']}", params={"ref": code}).status_code == 200
    second = api.post(f"/cards/{card['id']}/checkout", json={"quantity": 1, "buyer": "buyer_e2e_social_2", "ref": code},
                      headers={"Idempotency-Key": "e2e-social-2"}).json()
    # Another person, with another card: a referrer paying again with their own card earns nothing.
    other_card = stripe_client.v1.payment_methods.create({"type": "card", "card": {
        "number": "5555555555554444", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    assert api.pay(second, payment_method=other_card.id).json()["status"] == "succeeded"
    # Reservations only where the seller turns them on (here after the two sales, so they were open to all).
    r = requests.patch(f"{api.url}/api/cards/{card['id']}/social", json={"reservations": {"mode": "required"}},
                       headers={**auth, **CLOSE}, timeout=10)
    assert r.status_code == 200, r.text
    reservation = api.post(f"/cards/{card['id']}/reservations", json={"buyer": "buyer_e2e_social_3"})
    assert reservation.status_code == 201

    def recorded():
        """two statuses and two Bluesky posts for the two orders (the reservations are shared too)"""
        got = requests.get(f"{social}/_recorded", headers=CLOSE, timeout=5).json()
        mine = [s for s in got["statuses"] if card["id"] in s["content"] and "just got" in s["content"]]
        posts = [p for p in got["posts"] if card["id"] in p["record"]["embed"]["external"]["uri"]
                 and "just got" in p["record"]["text"]]
        return (mine, posts) if len(mine) >= 2 and len(posts) >= 2 else None

    statuses, posts = wait_until(recorded)
    assert len(statuses) == len(posts) == 2
    report = wait_until(lambda: (lambda r: r if r["referred_orders"] == 1 else None)(
        api.get(f"/api/cards/{card['id']}/referrals", headers=auth).json()))
    assert report["top_referrers"][0]["code"] == code
    assert wait_until(lambda: [i for i in api.get(f"/cards/{card['id']}/feed").json()["items"]
                               if i["kind"] == "reservation.shared"])
    view = api.get(f"/cards/{card['id']}").json()
    assert view["reservations"] == 1 and view["bought"] == 2


def test_the_local_api_tells_clients_apart_by_their_address_as_api_gateway_does(api, live_stack):
    card = api.create_card(stock=10, limit_per_buyer=1)
    def tap(address, n):
        return tap_from(live_stack["api_url"], address, card["id"], f"made_up_{n:04d}", f"tap-{address}-{n}")[0]

    one_address = [tap("127.0.7.1", n) for n in range(4)]
    assert one_address == [201, 201, 201, 429]  # made-up buyer tokens: one client, 3 x the limit
    four_addresses = [tap(f"127.0.7.{10 + n}", 10 + n) for n in range(4)]
    assert four_addresses == [201, 201, 201, 201]
