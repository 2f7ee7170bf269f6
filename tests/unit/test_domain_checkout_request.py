"""What a buyer's checkout request must look like: header, quantity, buyer token and referral code."""
import pytest

from chalicelib.domain import MAX_QUANTITY, InvalidRequest, checkout_request_from

KEY = "tap_1700000000_12345678"


def parse(payload, key=KEY):
    return checkout_request_from(payload, key)


def refusal(payload, key=KEY) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        parse(payload, key)
    return caught.value


def test_a_valid_request_is_parsed():
    request, key = parse({"quantity": 2, "buyer": "buyer-token-0001", "ref": "k3yR3f_-"})

    assert key == KEY
    assert request.quantity == 2
    assert request.buyer == "buyer-token-0001"
    assert request.ref == "k3yR3f_-"


@pytest.mark.parametrize("ref", ["", None])
def test_an_empty_ref_means_no_referral(ref):
    request, _ = parse({"quantity": 1, "buyer": "buyer-token-0001", "ref": ref})

    assert request.ref is None


@pytest.mark.parametrize("quantity", [1, MAX_QUANTITY])
def test_quantity_limits_are_inclusive(quantity):
    request, _ = parse({"quantity": quantity, "buyer": "buyer-token-0001"})

    assert request.quantity == quantity


@pytest.mark.parametrize("key", [None, "", "short", "has spaces in it", "ünïcode-key", "k" * 129, "semi;colon-key"])
def test_the_idempotency_key_header_is_required_and_well_formed(key):
    error = refusal({"quantity": 1, "buyer": "buyer-token-0001"}, key)

    assert error.field == "Idempotency-Key"
    assert "Idempotency-Key" in error.message


def test_the_idempotency_key_is_checked_before_the_body():
    assert refusal("not even an object", None).field == "Idempotency-Key"


@pytest.mark.parametrize("key", ["abcdefgh", "k" * 128, "tap.1700000000-abc_DEF"])
def test_idempotency_keys_of_8_to_128_safe_characters_are_accepted(key):
    _, parsed = parse({"quantity": 1, "buyer": "buyer-token-0001"}, key)

    assert parsed == key


@pytest.mark.parametrize("payload", [None, [], "quantity=1", 3])
def test_a_body_that_is_not_an_object_is_refused(payload):
    error = refusal(payload)

    assert error.code == "invalid_request"
    assert "JSON object" in error.message


def test_a_quantity_written_with_a_zero_fraction_is_that_whole_number():
    # JSON has one number type: 2.0 is 2 (openapi.json's "integer" takes it too, issue 13).
    request, _ = checkout_request_from({"quantity": 2.0, "buyer": "buyer-token-0001"}, KEY)

    assert request.quantity == 2 and isinstance(request.quantity, int)


@pytest.mark.parametrize(
    "quantity",
    [None, 0, -1, MAX_QUANTITY + 1, 10**9, 0.0, 1.5, 101.0, float("inf"), "1", "one", True, False, [1], {"n": 1}],
    ids=repr,
)
def test_a_quantity_that_is_not_a_whole_number_from_1_to_100_is_refused(quantity):
    payload = {"buyer": "buyer-token-0001"}
    if quantity is not None:
        payload["quantity"] = quantity

    error = refusal(payload)

    assert error.field == "quantity"
    assert "quantity" in error.message


@pytest.mark.parametrize(
    "buyer", [None, "", "short", "has spaces in it", "b" * 129, "with/slash-token", 12345678, ["buyer-token-0001"]],
    ids=repr,
)
def test_a_buyer_that_is_not_a_token_is_refused(buyer):
    payload = {"quantity": 1}
    if buyer is not None:
        payload["buyer"] = buyer

    assert refusal(payload).field == "buyer"


@pytest.mark.parametrize("ref", ["bad ref!", "r" * 33, "<script>", 5, False, ["a"]], ids=repr)
def test_a_ref_that_cannot_be_a_referral_code_is_ignored_not_refused(ref):
    request, _ = parse({"quantity": 1, "buyer": "buyer-token-0001", "ref": ref})

    assert request.ref is None


def test_the_buyer_may_give_a_name_or_stay_anonymous():
    named, _ = parse({"quantity": 1, "buyer": "buyer-token-0001", "name": " Ada "})
    anonymous, _ = parse({"quantity": 1, "buyer": "buyer-token-0001", "name": "Ada", "anonymous": True})

    assert (named.display_name, named.anonymous) == ("Ada", False)
    assert (anonymous.display_name, anonymous.anonymous) == ("Ada", True)


@pytest.mark.parametrize("payload, field", [
    ({"name": "x" * 41}, "name"), ({"name": 5}, "name"), ({"anonymous": "yes"}, "anonymous"),
    ({"reservation": "no spaces allowed"}, "reservation"),
])
def test_a_bad_name_anonymity_or_reservation_token_is_refused(payload, field):
    assert refusal({"quantity": 1, "buyer": "buyer-token-0001", **payload}).field == field
