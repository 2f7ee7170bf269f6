"""The rules of tapcard in plain Python: no boto3, pynamodb, stripe or chalice here.

errors: what can go wrong; fields: checks of what clients send; clients: who a client is;
cards: a card and its sale; orders: an order, its statuses and the table of moves between
them; shipping: where a card ships, the buyer's address, an order's total; offers: compare-at
prices, discount codes and the one function that prices an order; reviews: one per paid order,
replies, hiding, the rating; reminders: reservers reminded before a sale, unsubscribe tokens;
shops: a blogger's shop of cards; aftersales: buyers' after-sales requests and their moves; groups: group
buying. Their public names (each module's __all__) are reachable here, so callers write
`from chalicelib.domain import Card, SoldOut`.

The modules are imported on first use of one of their names, not all at once: a Lambda container
answering a widget imports only the rules it needs (cold start).
"""
import importlib

# In dependency order: a name of cards is found after the modules cards imports anyway.
MODULES = ("errors", "fields", "shipping", "offers", "groups", "cards", "orders", "clients", "reviews", "shops",
           "reminders", "aftersales")


def __getattr__(name: str):
    for module_name in MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        if name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            globals()[name] = value  # found once, then a plain attribute
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
