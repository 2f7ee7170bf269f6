"""The schema tier runs on the functional tier's fixtures: moto's DynamoDB, FakeStripe (tests/fixtures.py).

pytest refuses `pytest_plugins` in a conftest below the rootdir, so they are imported here instead.
"""
from fixtures import *  # noqa: F401,F403
