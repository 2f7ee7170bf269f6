"""ops.py's seller commands, for stages where open sign-up is closed."""
import json

import pytest

import ops
from chalicelib.store import sellers
from chalicelib.domain import NotFound


def test_ops_create_a_seller_and_a_second_key_that_both_work(aws, capsys):
    assert ops.main(["create-seller", "Ada", "ada@example.com"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert ops.main(["new-key", created["seller_id"]]) == 0
    second = json.loads(capsys.readouterr().out)

    for key in (created["api_key"], second["api_key"]):
        assert sellers.seller_for_authorization(f"Bearer {key}") == created["seller_id"]
    assert len(sellers.keys_of(created["seller_id"])) == 2


def test_no_key_is_made_for_a_seller_that_does_not_exist(aws):
    with pytest.raises(NotFound):
        ops.main(["new-key", "sel_nobody"])
