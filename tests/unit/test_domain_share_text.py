"""The automatic share's words: the seller's template, and what happens when it is broken."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import DEFAULT_SHARE_TEXT, render_share_text
from chalicelib.views import minor_unit_exponent

LINK = "http://tapcard.test/p/card_1?ref=abc123"
VALUES = dict(buyer="Someone", title="Speckled mug", price="€18.00", left=7, link=LINK)
DEFAULT_WORDS = "Someone just got Speckled mug for €18.00. 7 left: " + LINK


def render(template: str) -> str:
    return render_share_text(template, **VALUES)


def test_the_default_text_names_the_item_price_stock_left_and_link():
    assert render(DEFAULT_SHARE_TEXT) == DEFAULT_WORDS


def test_a_sellers_template_is_filled_in():
    assert render("Only {left} {title} left at {price}! {link}") == f"Only 7 Speckled mug left at €18.00! {LINK}"


def test_a_template_without_the_link_still_gets_it_at_the_end():
    assert render("{buyer} bought a {title}") == f"Someone bought a Speckled mug {LINK}"


@pytest.mark.parametrize("template", [
    "Grab a {title} with code {discount}!",   # a placeholder tapcard does not know
    "{title} for {0}",                        # a positional placeholder
    "Unclosed {title",                        # malformed
    "Stray } brace",
    "{title!z}",                              # unknown conversion
    "{left:%Y}",                              # a format spec that does not fit
    "{title[99]}",
])
def test_a_broken_template_falls_back_to_the_default_words(template):
    assert render(template) == DEFAULT_WORDS


@pytest.mark.parametrize("template", ["{title.nope} is here", "{left[0]} left"])
def test_attribute_or_index_access_in_a_template_falls_back_to_the_default_words(template):
    assert render(template) == DEFAULT_WORDS


FRAGMENTS = ["{buyer}", "{title}", "{price}", "{left}", "{link}", "{unknown}", "{", "}", "{{", "}}",
             "{0}", "{}", "{title!r}", "{left:>5}", "Buy now ", "¡olé! ", "限量 ", " "]


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join))
def test_the_link_is_always_in_the_share(template):
    assert LINK in render(template)


@pytest.mark.parametrize("currency, exponent", [
    ("EUR", 2), ("USD", 2), ("usd", 2), ("GBP", 2), ("CNY", 2),
    ("JPY", 0), ("jpy", 0), ("KRW", 0), ("VND", 0), ("CLP", 0), ("XOF", 0),
])
def test_minor_unit_exponent(currency, exponent):
    assert minor_unit_exponent(currency) == exponent


@pytest.mark.parametrize("currency", ["BHD", "JOD", "KWD", "OMR", "TND"])
def test_three_decimal_currencies_have_exponent_3(currency):
    assert minor_unit_exponent(currency) == 3
