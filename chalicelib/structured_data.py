"""The hosted product page's schema.org JSON-LD (search engines' rich results): the product, its
offer and, once it has reviews shown, its rating and the newest reviews."""
from __future__ import annotations

from chalicelib import views
from chalicelib.store import reviews

SCHEMA_AVAILABILITY = {"live": "InStock", "upcoming": "PreOrder", "sold_out": "SoldOut", "ended": "Discontinued"}


def product_ld(card, view: dict) -> dict:
    """schema.org Product of a card (view: checkout.card_view's answer, for its sale state and URL)."""
    return {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": card.title,
        "description": card.description,
        "image": card.image_url,
        "url": view["url"],
        "offers": offer_ld(card, view),
        **rating_ld(card.card_id),
    }


def offer_ld(card, view: dict) -> dict:
    """schema.org Offer: the price (the special price when there is a compare-at one, which rides
    along as a StrikethroughPrice) and, when the sale ends, priceValidUntil."""
    price = views.major_units(card.price_amount, card.currency)
    offer = {
        "@type": "Offer",
        "price": price,
        "priceCurrency": card.currency,
        "availability": "https://schema.org/" + SCHEMA_AVAILABILITY[view["sale"]["state"]],
        "url": view["url"],
    }
    if card.ends_at is not None:
        offer["priceValidUntil"] = views.iso(card.ends_at)[:10]
    if card.compare_at_amount is not None:
        offer["priceSpecification"] = [
            {"@type": "UnitPriceSpecification", "price": price, "priceCurrency": card.currency},
            {"@type": "UnitPriceSpecification", "priceType": "https://schema.org/StrikethroughPrice",
             "price": views.major_units(card.compare_at_amount, card.currency), "priceCurrency": card.currency},
        ]
    return offer


def rating_ld(card_id: str) -> dict:
    """schema.org aggregateRating and the newest reviews shown, for the product page's JSON-LD."""
    stats = reviews.stats(card_id)
    if not stats.count:
        return {}
    return {
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": stats.average, "reviewCount": stats.count,
                            "bestRating": 5, "worstRating": 1},
        "review": [{"@type": "Review", "reviewRating": {"@type": "Rating", "ratingValue": review.rating,
                                                        "bestRating": 5, "worstRating": 1},
                    "author": {"@type": "Person", "name": review.name or "Anonymous"},
                    "reviewBody": review.text, "datePublished": views.iso(review.created_at)[:10]}
                   for review in reviews.newest(card_id, 5)],
    }
