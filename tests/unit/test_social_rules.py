"""The social loop's rules: who a share names, reservers-only windows, tokens, channel URLs, referral
credit and rebates."""
import pytest

from chalicelib.domain import (
    DEFAULT_SHARE_TEXT, Card, Ended, InvalidRequest, InvalidTemplate, Order, ReservationsOff, ReserversOnly,
    new_card_from_request,
)
from chalicelib.social import rules

SECRET = "test-secret"


def card(**overrides) -> Card:
    values = dict(card_id="card_1", seller_id="sel_1", title="Mug", description="", image_url="https://x/y.jpg",
                  price_amount=1800, currency="EUR", stock=5, starts_at=1_000_000, created_at=900_000)
    values.update(overrides)
    return Card(**values)


@pytest.mark.parametrize("name, anonymous, city, expected", [
    ("Ada", False, "Lyon", "Ada"),
    ("Ada", True, "Lyon", "Someone in Lyon"),
    (None, False, "Lyon", "Someone in Lyon"),
    (None, False, None, "Someone"),
])
def test_a_share_names_the_buyer_only_when_they_let_it(name, anonymous, city, expected):
    assert rules.buyer_words("en", name, anonymous, city) == expected


def test_the_anonymous_words_follow_the_cards_locale():
    assert rules.buyer_words("zh-CN", None, False, "上海") == "上海的一位读者"
    assert rules.buyer_words("zh-CN", None, False, None) == "一位读者"


def test_a_city_header_is_decoded_and_anything_odd_dropped():
    assert rules.viewer_city("S%C3%A3o%20Paulo") == "São Paulo"
    assert rules.viewer_city("<script>") is None
    assert rules.viewer_city("{buyer}") is None
    assert rules.viewer_city(None) is None


@pytest.mark.parametrize("city", ["St. John's", "Saint-Étienne", "Xi'an", "北京", "Washington D.", "नई दिल्ली"])
def test_real_city_names_pass(city):
    assert rules.viewer_city(city) == city


@pytest.mark.parametrize("forged", [
    "FREE iPhones at https://evil.example/claim",  # issue 13: a link in the seller's public posts
    "%3Cb%3EFREE%20iPhones%20at%20https%3A%2F%2Fevil.example%2Fclaim%3C%2Fb%3E",
    "claim at evil.example", "evil．example", "win 1000 USD", "a" * 61, "Lyon\nVisit", "Lyon @evil",
])
def test_a_city_with_a_link_a_domain_markup_or_digits_is_dropped(forged):
    assert rules.viewer_city(forged) is None


def test_the_reservers_are_counted_in_the_cards_words():
    assert rules.reservers_words("en", 1) == "One person"
    assert rules.reservers_words("en", 12) == "12 people"
    assert rules.reservers_words("zh-CN", 12) == "12位读者"


def test_the_default_words_follow_the_locale_but_a_sellers_own_text_wins():
    assert rules.order_template(card(locale="zh-CN")) == "{buyer}刚以{price}买下了{title}，仅剩{left}件：{link}"
    assert rules.order_template(card(locale="en")) == rules.order_template(card(locale="fr")) == DEFAULT_SHARE_TEXT
    assert rules.order_template(card(locale="zh-CN", share_text="{title}! {link}")) == "{title}! {link}"


@pytest.mark.parametrize("template", ["Grab {title} with {coupon}", "{title.upper}", "{left:>5}", "Unclosed {title"])
def test_a_template_with_unknown_placeholders_is_an_invalid_template(template):
    payload = {"title": "Mug", "image_url": "https://x/y.jpg", "price": {"amount": 1, "currency": "EUR"},
               "stock": 1, "share_text": template}
    with pytest.raises(InvalidTemplate) as caught:
        new_card_from_request(payload, "card_1", "sel_1", 0)
    assert (caught.value.code, caught.value.field) == ("invalid_template", "share_text")


def test_in_the_first_minutes_only_reservers_buy():
    first = card(reservation_mode="first_minutes", reservers_minutes=10)
    rules.check_reservation(first, 1_000_000 + 599, reserved=True)
    with pytest.raises(ReserversOnly):
        rules.check_reservation(first, 1_000_000 + 599, reserved=False)
    rules.check_reservation(first, 1_000_000 + 600, reserved=False)


def test_a_required_reservation_holds_for_the_whole_sale_and_no_mode_for_none():
    with pytest.raises(ReserversOnly):
        rules.check_reservation(card(reservation_mode="required"), 5_000_000, reserved=False)
    rules.check_reservation(card(), 1_000_000, reserved=False)


def test_reservations_are_taken_only_where_the_seller_turned_them_on_until_the_sale_ends():
    rules.check_reservable(card(reservation_mode="required"), 1_000_000 - 1)
    rules.check_reservable(card(reservation_mode="first_minutes", reservers_minutes=5), 1_000_000 + 1)
    with pytest.raises(ReservationsOff):
        rules.check_reservable(card(), 1_000_000 - 1)
    with pytest.raises(Ended):
        rules.check_reservable(card(reservation_mode="required", ends_at=1_000_100), 1_000_100)


def test_one_reservation_per_card_buyer_token_and_address():
    one = rules.reservation_id_for(SECRET, "card_1", "203.0.113.7", "buyer-token-0001")

    assert rules.reservation_id_for(SECRET, "card_1", "203.0.113.7", "buyer-token-0001") == one
    others = {rules.reservation_id_for(SECRET, "card_1", "203.0.113.8", "buyer-token-0001"),
              rules.reservation_id_for(SECRET, "card_1", "203.0.113.7", "buyer-token-0002"),
              rules.reservation_id_for(SECRET, "card_1", "203.0.113.7", None),
              rules.reservation_id_for(SECRET, "card_2", "203.0.113.7", "buyer-token-0001")}
    assert one not in others and len(others) == 4


def test_a_reservation_token_proves_its_reservation_for_its_card_and_buyer_only():
    token = rules.reservation_token(SECRET, "card_1", "rsv_abc", "buyer-token-0001")

    assert rules.reservation_of_token(SECRET, "card_1", "buyer-token-0001", token) == "rsv_abc"
    assert rules.reservation_of_token(SECRET, "card_1", "buyer-token-0002", token) is None
    assert rules.reservation_of_token(SECRET, "card_2", "buyer-token-0001", token) is None
    assert rules.reservation_of_token("other-secret", "card_1", "buyer-token-0001", token) is None
    assert rules.reservation_of_token(SECRET, "card_1", "buyer-token-0001", token[:-1] + "x") is None
    assert rules.reservation_of_token(SECRET, "card_1", "buyer-token-0001", None) is None


@pytest.mark.parametrize("url, loopback_ok", [
    ("https://hooks.example.com/x", False), ("http://127.0.0.1:9000/x", True), ("http://localhost/x", True),
    ("http://[::1]:80/x", True),
])
def test_channel_urls_that_are_accepted(url, loopback_ok):
    assert rules.channel_url(url, "url", allow_loopback_http=True) == url
    if not loopback_ok:
        assert rules.channel_url(url, "url", allow_loopback_http=False) == url


@pytest.mark.parametrize("url", ["http://hooks.example.com/x", "ftp://x.example", "https://", "javascript:alert(1)",
                                 "http://10.0.0.1/x", "https://10.0.0.1/x", "https://169.254.169.254/latest",
                                 "https://[fd00::1]/x", "https://x.example:99999/", 7, None])
def test_channel_urls_that_are_refused(url):
    with pytest.raises(InvalidRequest) as caught:
        rules.channel_url(url, "url", allow_loopback_http=True)
    assert caught.value.field == "url"


def test_loopback_http_is_refused_outside_dev():
    with pytest.raises(InvalidRequest):
        rules.channel_url("http://127.0.0.1:9000/x", "url", allow_loopback_http=False)


def test_the_rebate_is_a_percent_of_the_amount_rounded_down():
    assert rules.rebate(1999, 10) == 199
    assert rules.rebate(1999, None) == 0


def paid_order(buyer: str, payer_ids: tuple[str, ...] = ()) -> Order:
    return Order(order_id=f"ord_{buyer}", card_id="card_1", buyer=buyer, quantity=1, amount=1800, currency="EUR",
                 status="paid", created_at=1_000_000, expires_at=1_000_600, payer_ids=payer_ids)


@pytest.mark.parametrize("buyer, payer_ids, same", [
    ("buyer-token-ada1", (), True),                                          # the same browser
    ("buyer-token-ada2", ("card:fp_ada",), True),                            # another browser, the same card
    ("buyer-token-ada2", ("card:fp_new", "email:ada@example.com"), True),    # another card, the same email
    ("buyer-token-bea1", ("card:fp_bea", "email:bea@example.com"), False),
    ("buyer-token-bea1", (), False),                                         # who paid unknown: the token decides
])
def test_a_referral_by_the_same_person_is_told_by_token_card_or_email(buyer, payer_ids, same):
    referrer = paid_order("buyer-token-ada1", ("card:fp_ada", "email:ada@example.com"))

    assert rules.same_person(paid_order(buyer, payer_ids), referrer) is same


def test_a_partial_refund_leaves_the_rebate_of_what_was_paid_never_more_than_credited():
    assert rules.rebate_after_refund(3000, 10, 500) == 300
    assert rules.rebate_after_refund(1999, 10, 500) == 199
    assert rules.rebate_after_refund(3000, 50, 500) == 500  # the seller raised the percent since
    assert rules.rebate_after_refund(0, 10, 500) == 0
    assert rules.rebate_after_refund(3000, None, 500) == 0


def test_a_rebate_is_earned_once_the_refund_window_has_passed():
    day = 24 * 3600
    credited = 1_000_000

    assert not rules.rebate_earned(credited, credited, 14)
    assert not rules.rebate_earned(credited, credited + 14 * day - 1, 14)
    assert rules.rebate_earned(credited, credited + 14 * day, 14)
    assert rules.rebate_earned(credited, credited, 0)  # no window: earned at once
