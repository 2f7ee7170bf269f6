"""The rules of tapcard in plain Python: no boto3, pynamodb, stripe or chalice here.

errors: what can go wrong; fields: checks of what clients send; clients: who a client is;
cards: a card and its sale; orders: an order, its statuses and the table of moves between
them; shipping: where a card ships, the buyer's address, an order's total; offers: compare-at
prices, discount codes and the one function that prices an order; reviews: one per paid order,
replies, hiding, the rating; shops: a blogger's shop of cards; groups: group buying. Their public names are gathered here, so callers write
`from chalicelib.domain import Card, SoldOut`.
"""
from chalicelib.domain.cards import *  # noqa: F401,F403
from chalicelib.domain.clients import *  # noqa: F401,F403
from chalicelib.domain.errors import *  # noqa: F401,F403
from chalicelib.domain.fields import *  # noqa: F401,F403
from chalicelib.domain.groups import *  # noqa: F401,F403
from chalicelib.domain.offers import *  # noqa: F401,F403
from chalicelib.domain.orders import *  # noqa: F401,F403
from chalicelib.domain.shipping import *  # noqa: F401,F403
from chalicelib.domain.reviews import *  # noqa: F401,F403
from chalicelib.domain.shops import *  # noqa: F401,F403
