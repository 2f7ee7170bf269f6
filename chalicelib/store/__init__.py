"""Storage: pynamodb lives here and nowhere else. models.py has the item layouts; each other module
is the one writer of its tables (cards; stock and buyer limits; orders and Stripe events; sellers
and keys; referrals; shares; channels; reservations; social counts; the funnel's counters), public
names only. transactions.py labels the items of a transaction so a refusal is read by name."""
