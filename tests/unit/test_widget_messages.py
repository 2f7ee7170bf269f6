"""The card's words: every language has every word the card uses, and Jinja can reach each one."""
import json
import re
from pathlib import Path

import pytest

WIDGETS = Path(__file__).resolve().parents[2] / "chalicelib" / "widgets"
CATALOG = json.loads((WIDGETS / "messages.json").read_text())


def words_used() -> set[str]:
    templates = "".join((WIDGETS / name).read_text() for name in ("widget.html", "not_available.html", "product.html"))
    script = (WIDGETS / "card.js").read_text()
    return set(re.findall(r"words\.(\w+)", templates + script)) | set(re.findall(r'\bt\("(\w+)"', script))


@pytest.mark.parametrize("language", sorted(CATALOG))
def test_every_word_the_card_uses_is_translated(language):
    assert words_used() - set(CATALOG[language]) == set()


def test_the_languages_have_the_same_words():
    assert set(CATALOG["en"]) == set(CATALOG["zh-CN"])


def test_no_word_hides_behind_a_dict_method_in_jinja():
    # `words.copy` in a template would print dict.copy, not the word.
    assert {key for key in CATALOG["en"] if hasattr(dict, key)} == set()


@pytest.mark.parametrize("language", sorted(CATALOG))
def test_placeholders_match_english(language):
    for key, text in CATALOG["en"].items():
        if isinstance(text, str):
            assert set(re.findall(r"\{\w+\}", CATALOG[language][key])) == set(re.findall(r"\{\w+\}", text)), key
