"""The words people read, one file per locale: widgets/words/<locale>.json, with a section per
place that shows them: "card" (the widget, its script and the hosted product page), "order_page"
(the buyer's order page), "dashboard" (the seller's page) and "share" (the automatic shares).

widgets/ sits next to chalicelib/: at the repo root locally, at the zip root on Lambda (it reaches
the deployment package through the vendor/widgets link). A locale's file is read once per
container, on first use. No other I/O, nothing heavy imported.
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

WIDGETS = Path(__file__).resolve().parents[1] / "widgets"
WORDS = WIDGETS / "words"
# A file per locale; the first is the fallback for any other language.
LOCALES = ("en", "zh-CN")
DEFAULT_LOCALE = LOCALES[0]
# What a language tag (BCP 47, as Accept-Language or data-locale give it) may look like.
LOCALE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}\Z")


def words_for(locale: str | None) -> dict:
    """Every word of a locale, by section; English for a locale without a file. Shared: read only."""
    return _load(locale if locale in LOCALES else DEFAULT_LOCALE)


@functools.lru_cache(maxsize=len(LOCALES))
def _load(locale: str) -> dict:
    return json.loads((WORDS / f"{locale}.json").read_text(encoding="utf-8"))


def pick_locale(option: str | None, accept_language: str | None) -> tuple[str, str]:
    """(the reader's locale for numbers and dates, the locale whose words they read)."""
    wanted = option or _first_language(accept_language) or DEFAULT_LOCALE
    return wanted, words_locale(wanted)


def words_locale(tag: str) -> str:
    """The locale with words for a language tag: the first whose language the tag starts with
    ("zh-TW" reads zh-CN), else the default."""
    tag = tag.lower()
    return next((locale for locale in LOCALES if tag.startswith(locale.split("-")[0].lower())), DEFAULT_LOCALE)


def _first_language(accept_language: str | None) -> str | None:
    ranked = []
    for part in (accept_language or "").split(","):
        tag, _, quality = part.strip().partition(";q=")
        try:
            ranked.append((float(quality or 1), tag.strip()))
        except ValueError:
            continue
    ranked = [(q, tag) for q, tag in ranked if q > 0 and LOCALE_TAG.match(tag)]
    return max(ranked, key=lambda item: item[0])[1] if ranked else None
