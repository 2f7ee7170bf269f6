"""The social loop: automatic shares and the channels they go to, referral credit, reservations,
the streams that start them. rules.py is plain Python; the others keep their state through store/.
"""
