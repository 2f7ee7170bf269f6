"""A client is the address API Gateway saw; a whole IPv6 /64 is one client."""
from chalicelib.domain import client_key, open_holds_cap, rate_window


def test_an_ipv4_client_is_its_address():
    assert client_key("203.0.113.7") == "203.0.113.7"


def test_every_address_of_one_ipv6_subscriber_is_one_client():
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")


def test_an_ipv4_mapped_ipv6_address_is_the_ipv4_client():
    assert client_key("::ffff:203.0.113.7") == "203.0.113.7"


def test_nothing_usable_is_one_unknown_client():
    assert client_key(None) == client_key("") == client_key("not-an-ip") == "unknown"


def test_the_cap_is_a_multiple_of_the_limit_or_a_few_units_without_one():
    assert open_holds_cap(1, per_limit=3, without_limit=10) == 3
    assert open_holds_cap(2, per_limit=3, without_limit=10) == 6
    assert open_holds_cap(None, per_limit=3, without_limit=10) == 10


def test_a_rate_window_is_fixed_and_says_how_long_until_the_next():
    assert rate_window(1_000_020, 60) == (1_000_020 - 1_000_020 % 60, 60 - 1_000_020 % 60)
    assert rate_window(120, 60) == (120, 60)
    assert rate_window(179, 60) == (120, 1)
