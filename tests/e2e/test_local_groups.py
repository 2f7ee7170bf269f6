"""Group buying on the real local stack (issue 16): localstripe authorises with
capture_method=manual, the groups stream captures a complete group, the sweeper fails a group whose
window closed and cancels its authorisations; the ops audit is clean after each."""

from test_local_stack import api, audit, intents_of, stripe_client, wait_until  # noqa: F401 (fixtures)

GROUP = {"size": 3, "price": {"amount": 1500}, "window_minutes": 1}


def start(api, card_id, buyer, name=None):
    response = api.post(f"/cards/{card_id}/groups", json={"quantity": 1, "buyer": buyer, "name": name},
                        headers={"Idempotency-Key": f"start-{buyer}"})
    assert response.status_code == 201, response.text
    return response.json()


def join(api, card_id, group_id, buyer):
    response = api.post(f"/cards/{card_id}/checkout", json={"quantity": 1, "buyer": buyer, "group_id": group_id},
                        headers={"Idempotency-Key": f"join-{buyer}"})
    assert response.status_code == 201, response.text
    return response.json()


def authorise(api, order):
    response = api.pay(order)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "authorized", response.text


def test_a_group_of_three_completes_and_every_member_pays_with_a_captured_charge(api, stripe_client, live_stack):
    card = api.create_card(group={**GROUP, "window_minutes": 10})
    members = [start(api, card["id"], "buyer_e2e_group_a1", name="Ada")]
    members += [join(api, card["id"], members[0]["group_id"], f"buyer_e2e_group_a{n}") for n in (2, 3)]
    for member in members[:2]:
        authorise(api, member)
    [intent] = intents_of(stripe_client, members[0])
    assert intent.status == "requires_capture"  # set aside, not taken, while the group is short
    authorise(api, members[2])

    def all_paid():
        """every member's order paid"""
        return all(api.order(member)["status"] == "paid" for member in members)

    wait_until(all_paid, timeout=30)
    for member in members:
        [intent] = intents_of(stripe_client, member)
        charge = intent.latest_charge  # localstripe expands it; Stripe gives its id
        charge = stripe_client.v1.charges.retrieve(charge) if isinstance(charge, str) else charge
        assert (intent.status, intent.to_dict()["amount_received"], charge.captured) == ("succeeded", 1500, True)
    group = api.get(f"/cards/{card['id']}/groups/{members[0]['group_id']}").json()
    assert (group["state"], group["authorised"], group["starter_name"]) == ("complete", 3, "Ada")
    def stock_settled():
        """3 sold, none held (GET /cards/{id} keeps a card's stock up to 1 s per container)"""
        return api.stock(card["id"]) == {"available": 2, "sold": 3, "held": 0}

    wait_until(stock_settled, timeout=5)
    code, report = audit(live_stack, card["id"])
    assert code == 0, report


def test_a_group_that_closes_short_cancels_its_authorisations_and_gives_the_units_back(api, stripe_client,
                                                                                         live_stack):
    card = api.create_card(group=GROUP)
    first = start(api, card["id"], "buyer_e2e_group_b1")
    second = join(api, card["id"], first["group_id"], "buyer_e2e_group_b2")
    for member in (first, second):
        authorise(api, member)
    assert api.stock(card["id"])["held"] == 2

    def closed():
        """both orders canceled by the sweeper once the window closed"""
        return all(api.order(member)["status"] == "canceled" for member in (first, second))

    wait_until(closed, timeout=100, every=1)
    for member in (first, second):
        assert api.order(member)["status_reason"] == "group_failed"
        [intent] = intents_of(stripe_client, member)
        assert (intent.status, intent.to_dict().get("amount_received")) == ("canceled", 0)
    assert api.stock(card["id"]) == {"available": 5, "sold": 0, "held": 0}
    assert api.get(f"/cards/{card['id']}/groups/{first['group_id']}").json()["state"] == "failed"
    code, report = audit(live_stack, card["id"])
    assert code == 0, report
