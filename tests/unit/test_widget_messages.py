"""The words people read (widgets/words/<locale>.json): every locale has every word the card, the
order page, the dashboard and the automatic shares use, with the same placeholders, and Jinja can
reach each one."""
import json
import re
from pathlib import Path

import pytest

from chalicelib import domain
from chalicelib.words import LOCALES, WIDGETS, words_for

ROOT = Path(__file__).resolve().parents[2]
WORDS = {locale: json.loads((WIDGETS / "words" / f"{locale}.json").read_text()) for locale in LOCALES}
SECTIONS = ("card", "order_page", "dashboard", "share", "shipping", "mail", "shop", "group")


def read(*names: str) -> str:
    return "".join((WIDGETS / name).read_text() for name in names)


def read_py(*names: str) -> str:
    return "".join((ROOT / "chalicelib" / name).read_text() for name in names)


def flat(words: dict, prefix: str = "") -> dict[str, str]:
    """{"card.units.d": "d", ...}: every word, by its dotted path."""
    out = {}
    for key, value in words.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def all_keys(words: dict):
    for key, value in words.items():
        yield key
        if isinstance(value, dict):
            yield from all_keys(value)


def words_used() -> dict[str, set[str]]:
    """The words each section's readers use, as the templates and scripts name them."""
    card_templates = read("widget.html", "not_available.html", "product.html")
    card_js = read("card.js")
    # card.js shows a checkout, pay or reservation error in the reader's words: words["error_" + error.code].
    card_errors = {f"error_{error.code}" for error in (
        domain.SoldOut, domain.NotStarted, domain.Ended, domain.LimitReached, domain.ReserversOnly,
        domain.ReservationsOff, domain.TooManyReservations, domain.HoldExpired, domain.AlreadyPaid,
        domain.PaymentInProgress, domain.PaymentsUnavailable, domain.AmountMismatch, domain.TooManyHolds,
        domain.CodeInvalid, domain.CodeExpired, domain.CodeUsedUp)}
    dashboard_html = "".join(path.read_text() for path in sorted(WIDGETS.glob("dashboard*.html")))
    dashboard_js = "".join(path.read_text() for path in sorted(WIDGETS.glob("dashboard*.js")))
    funnel_steps = re.search(r"var steps = \[([^\]]*)\]", dashboard_js).group(1)
    dashboard_dynamic = (
        set(domain.CARD_STATUSES)  # t(card.status)
        | {f"st_{status}" for status in domain.ORDER_STATUSES}  # t("st_" + order.status)
        | set(re.findall(r'"(\w+)"', funnel_steps))  # t(step) in the funnel
        | set(re.findall(r'orderAction\([^;]*"(\w+_done)"\)', dashboard_js))  # flash(t(done))
        | {"language_name"}  # the language button
    )
    rules = (ROOT / "chalicelib" / "social" / "rules.py").read_text()
    shipping_js = read("card_shipping.js")
    return {
        "card": set(re.findall(r"words\.(\w+)", card_templates + card_js))
        | set(re.findall(r'\bt\("(\w+)"', card_js)) | card_errors,
        # The order page and its after-sales include (the request's type, status and author by name too).
        "order_page": set(re.findall(r"\bt\.(\w+)", read("order.html", "order_requests.html", "order_review.html")))
        | {f"rq_type_{kind}" for kind in domain.REQUEST_TYPES} | {f"rq_status_{s}" for s in domain.REQUEST_STATUSES}
        | {"rq_from_buyer", "rq_from_seller"},
        "dashboard": set(re.findall(r'data-i18n="(\w+)"', dashboard_html))
        | set(re.findall(r"words\.(\w+)", dashboard_html))
        | set(re.findall(r'\bt\("(\w+)"\)', dashboard_js)) | dashboard_dynamic,
        "share": set(re.findall(r'words\["(\w+)"\]', rules)) | set(re.findall(r'\["share"\]\["(\w+)"\]', rules)),
        # The address form (cards that ship goods): its template, and card_shipping.js's sw("...")
        # with the marks it picks at run time and the errors of the address and pay routes.
        "shipping": set(re.findall(r"\bship\.(\w+)", read("widget.html", "widget_shipping.html")))
        | set(re.findall(r'\bsw\("(\w+)"\)', shipping_js)) | {"required", "invalid", "not_shipped"}
        | {f"error_{error.code}" for error in (domain.ShippingAddressRequired, domain.ShippingNotRequired)},
        # The buyers' emails (chalicelib/notices.py, aftersales_notices.py, reminders.py): their
        # words["..."], each kind's subject, each after-sales request type's line and the reminders'
        # unsubscribe page.
        "mail": set(re.findall(r'words\["(\w+)"\]', read_py("notices.py", "aftersales_notices.py", "reminders.py")))
        | {f"{kind}_subject" for kind in ("receipt", "shipped", "refunded")}
        | {f"request_{step}_subject" for step in ("opened", "approved", "declined", "reply", "closed")}
        | {f"request_type_{kind}" for kind in domain.REQUEST_TYPES}
        | set(re.findall(r"\bt\.(\w+)", read("unsubscribe.html"))),
        "shop": set(re.findall(r"\bt\.(\w+)", read("shop.html"))),
        # Group buying (cards with a group price): the template's grp.*, card_group.js's t("..."),
        # and the group errors card.js shows as words["error_" + code].
        "group": set(re.findall(r"\bgrp\.(\w+)", read("widget.html"))) | set(re.findall(r'\bt\("(\w+)"', read("card_group.js")))
        | set(re.findall(r'\bt\(group\.starter_name \? "(\w+)" : "(\w+)"', read("card_group.js"))[0])
        | {"full", "closed"} | {f"error_{error.code}" for error in (
            domain.GroupFull, domain.GroupClosed, domain.AlreadyInGroup, domain.GroupOnly, domain.GroupBuyingOff)},
    }


def test_there_is_one_file_per_locale_and_nothing_else():
    assert sorted(path.stem for path in (WIDGETS / "words").glob("*")) == sorted(LOCALES)


@pytest.mark.parametrize("locale", LOCALES)
def test_each_locale_has_every_section(locale):
    assert tuple(WORDS[locale]) == SECTIONS


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("section", SECTIONS)
def test_every_word_used_is_translated(locale, section):
    used = words_used()[section]
    assert used, f"no words found for {section}: the test no longer finds where they are used"
    assert used - set(WORDS[locale][section]) == set()


def test_the_order_page_names_every_order_status():
    for locale in LOCALES:
        assert set(WORDS[locale]["order_page"]["statuses"]) == set(domain.ORDER_STATUSES)


def test_the_languages_have_the_same_words():
    english = set(flat(WORDS["en"]))
    for locale in LOCALES:
        assert set(flat(WORDS[locale])) == english, locale


def test_no_word_hides_behind_a_dict_method_in_jinja():
    # `words.copy` in a template would print dict.copy, not the word.
    for locale in LOCALES:
        assert {key for key in all_keys(WORDS[locale]) if hasattr(dict, key)} == set(), locale


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_match_english(locale):
    english, words = flat(WORDS["en"]), flat(WORDS[locale])
    for key, text in english.items():
        assert isinstance(text, str) and isinstance(words[key], str), key
        assert set(re.findall(r"\{\w+\}", words[key])) == set(re.findall(r"\{\w+\}", text)), key


@pytest.mark.parametrize("locale", LOCALES)
def test_the_share_words_are_valid_share_templates(locale):
    for key in ("order", "reservation"):
        assert domain.share_template(WORDS[locale]["share"][key]) == WORDS[locale]["share"][key]


def test_the_english_order_share_is_the_cards_default_share_text():
    # A card stores DEFAULT_SHARE_TEXT until its seller writes their own; rules.order_template then
    # shares the card locale's "order" words.
    assert WORDS["en"]["share"]["order"] == domain.DEFAULT_SHARE_TEXT


def test_words_for_falls_back_to_english():
    assert words_for("fr") is words_for(None) is words_for("en")
    assert words_for("zh-CN")["card"]["buy"] == WORDS["zh-CN"]["card"]["buy"]
    assert words_for("../../etc/passwd") is words_for("en")
