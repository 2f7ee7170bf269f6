"""A seller's refund can never leave money and order out of step. The refund is run once to count
its DynamoDB and Stripe calls, then once per call with a fault there: a crash (the Lambda dies), or
the call refused as AWS would refuse it (DynamoDB AccessDenied, Stripe down). The seller asks
again or gives up, Stripe's charge.refunded may arrive, the sweeper runs later; then every order is
either refunded with its money back once, or paid with its money kept, the units and the buyer's
limit as the seller asked, and the seller never got a 409 for a refund Stripe made."""
import pytest
from botocore.exceptions import ClientError

from chalicelib import audit, backoffice, config, payments, refunds
from chalicelib.domain import Conflict, PaymentsUnavailable, RefundPending
from chalicelib.payments import CHARGE_REFUNDED, PaymentEvent
from chalicelib.store import cards, orders, stock
from test_fault_injection import InjectedFault, World, fresh_tables  # noqa: F401 (a fixture)


def refused_by_aws(message):
    """What AWS answers instead of crashing: DynamoDB denies the call, Stripe is unreachable."""
    if message.split(": ", 1)[1].startswith("dynamodb"):
        return ClientError({"Error": {"Code": "AccessDeniedException", "Message": message}}, "TransactWriteItems")
    return PaymentsUnavailable(message)


def refund(world, order, restock, answers):
    """The seller's click; its answer (the order, or the error's code) is kept."""
    try:
        answers.append(backoffice.refund("sel_fi", order["order_id"], {"restock": restock})["status"])
    except Conflict:
        answers.append("409")
    except RefundPending:
        answers.append("503")
    except Exception as crash:  # a 500 (InjectedFault: the Lambda died; ClientError: AWS refused)
        answers.append(type(crash).__name__)


def stripe_says_refunded(world, order_id):
    """Stripe's charge.refunded for the order's payment, once it has been refunded."""
    order = orders.get(order_id)
    intent = order.payment_intent_id
    if intent not in world.stripe.refunded():
        return
    event = PaymentEvent(f"evt_fi_refunded_{intent}", CHARGE_REFUNDED, intent, order_id, currency="cny",
                         amount=order.amount, amount_refunded=order.amount, refunded=True)
    try:
        refunds.apply_charge_event(event)
    except Exception:  # answered 5xx: Stripe delivers it again later
        pass


def seller_asks_again(world, order, restock):
    answers = []
    for _ in range(3):
        refund(world, order, restock, answers)
        if answers[-1] == "refunded":
            break
    return answers


def seller_gives_up(world, order, restock):
    answers = []
    refund(world, order, restock, answers)
    return answers


def two_clicks_at_once(world, order, restock):
    """A second click (another tab) is answered while the first one waits on Stripe."""
    answers, stripe_refund = [], payments.refund

    def first_click_waits_on_stripe(*args, **kwargs):
        payments.refund = stripe_refund
        refund(world, order, restock, answers)  # the second click, start to end
        return stripe_refund(*args, **kwargs)

    payments.refund = first_click_waits_on_stripe
    try:
        refund(world, order, restock, answers)
    finally:
        payments.refund = stripe_refund
    return answers


SELLERS = [seller_asks_again, seller_gives_up, two_clicks_at_once]


def paid_order(world):
    order = world.tap(quantity=2)
    world.pay(order)
    assert orders.get(order["order_id"]).status == "paid"
    return order


def settle_and_check(world, order, restock, answers, webhook):
    world.faults.fail_at = None
    if webhook:
        stripe_says_refunded(world, order["order_id"])
    world.clock += config.REFUND_SWEEP_SECONDS + 1
    refunds.finish_due(world.clock)
    stripe_says_refunded(world, order["order_id"])  # Stripe retries until answered 2xx

    assert "409" not in answers, answers
    final = orders.get(order["order_id"])
    report = audit.run(world.card.card_id)
    assert report.clean, report.problems
    level = stock.level(cards.get_fresh(world.card.card_id))
    money_back = final.payment_intent_id in world.stripe.refunded()
    assert len(set(world.stripe.calls_to("refund"))) <= 1  # one payment, one idempotency key
    if final.status == "refunded":
        assert money_back and final.refund_id and final.refund_restock is None
        assert final.status_reason == ("refunded_by_seller" if restock else "refunded_by_seller_not_restocked")
        assert (level.available, level.sold) == ((3, 0) if restock else (1, 0))
        assert report.stock == (3 if restock else 1)
        assert refunds.finish_due(world.clock + 10 * config.REFUND_SWEEP_SECONDS) == 0
        assert world.tap(quantity=1) is not None  # the buyer may buy again: the limit gave the units back
    else:
        # Nothing reached Stripe: the click failed before it, visibly (a 5xx), and the order is
        # paid with its money kept, no refund under way.
        assert final.status == "paid" and not money_back and final.refund_restock is None, (final, answers)
        assert (level.available, level.sold) == (1, 2)
        assert "refunded" not in answers


@pytest.mark.parametrize("seller", SELLERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("restock", [True, False], ids=["restock", "no-restock"])
@pytest.mark.parametrize("fault", ["crash", "refused"])
@pytest.mark.parametrize("webhook", [False, True], ids=["no-webhook", "webhook"])
def test_a_fault_at_any_call_of_a_refund_converges(seller, restock, fault, webhook, fresh_tables, monkeypatch):
    def paid_world(fail_at=None):
        world = World(monkeypatch)
        monkeypatch.setattr(refunds, "now", lambda: world.clock)
        order = paid_order(world)
        world.faults.calls = 0
        world.faults.fail_at = fail_at
        if fault == "refused":
            world.faults.fault = refused_by_aws
        return world, order

    mock = fresh_tables()
    try:
        world, order = paid_world()
        answers = seller(world, order, restock)
        calls = world.faults.calls
        assert answers[-1] == "refunded"
        settle_and_check(world, order, restock, answers, webhook)
    finally:
        mock.stop()
    assert calls > 3

    for fail_at in range(1, calls + 1):
        mock = fresh_tables()
        try:
            world, order = paid_world(fail_at)
            answers = seller(world, order, restock)
            settle_and_check(world, order, restock, answers, webhook)
            if seller is seller_asks_again:
                assert orders.get(order["order_id"]).status == "refunded", (fail_at, answers)
        finally:
            mock.stop()
