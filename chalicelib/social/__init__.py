"""The social loop: channels a card shares to, referral credit, reservations, social-proof counts.

rules.py is plain Python (no AWS); the other modules keep their state in DynamoDB through models.py.
"""
