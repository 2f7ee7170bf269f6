"""This tier's fixtures live in tests/fixtures.py, shared with the other moto-backed tier.

pytest refuses `pytest_plugins` in a conftest below the rootdir ("Defining 'pytest_plugins' in a
non-top-level conftest is no longer supported"), so the fixtures are imported here instead.
"""
from fixtures import *  # noqa: F401,F403
