"""Storage: pynamodb lives here and nowhere else in the domain's path. models.py has the item
layouts; each other module is the one writer of its tables (cards, stock and buyer limits,
orders and Stripe events, sellers and keys, referrals) and speaks domain objects, public names
only. transactions.py labels the items of a transaction so a refusal is read by name."""
