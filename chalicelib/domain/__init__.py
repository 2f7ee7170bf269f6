"""The rules of tapcard in plain Python: no boto3, pynamodb, stripe or chalice here.

errors: what can go wrong; fields: checks of what clients send; clients: who a client is;
cards: a card (its compare-at price, its return window) and its sale; orders: an order, its
statuses and the table of moves between them; shipping: where a card ships, the buyer's address,
an order's total; offers: discount codes and the one function that prices an order; reviews: one per paid order,
replies, hiding, the rating; reminders: reservers reminded before a sale, unsubscribe tokens;
shops: a blogger's shop of cards; aftersales: buyers' after-sales requests and their moves; groups: group
buying. Their public names (each module's __all__) are reachable here, so callers write
`from chalicelib.domain import Card, SoldOut`.

The modules are imported on first use of one of their names, not all at once. The lookup imports
the modules in order until it finds the name, so the modules a widget's cold start runs (pages,
views, the API's http, the store of cards, stock, reviews and sellers) import from the rule's own
module (`from chalicelib.domain.cards import Card`): such a container loads no order or shop rules.
"""
import importlib

# In dependency order: a name of cards is found after the modules cards imports anyway.
MODULES = ("errors", "fields", "clients", "shipping", "offers", "groups", "cards", "orders", "reviews", "shops",
           "reminders", "aftersales")


def __getattr__(name: str):
    for module_name in MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        if name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            globals()[name] = value  # found once, then a plain attribute
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
