"""What a new container costs AWS: one DynamoDB client for every table, no DescribeTable (a
control-plane call, limited per account: 800 containers starting at once must not spend it), and a
/health that makes one cheap read."""
import json

import botocore.client
import botocore.session
import pytest

from chalicelib import startup
from chalicelib.store import model_base, models
from fixtures import request_checkout


class Recorded:
    def __init__(self):
        self.created, self.calls = [], []

    def new_container(self):
        """From here on, the store is as a new container finds it: no connection yet."""
        model_base.connection.cache_clear()
        for model in models.all_models().values():
            model._connection = None
        self.created.clear(), self.calls.clear()


@pytest.fixture
def fresh_container(monkeypatch):
    """Every botocore client made and every AWS call, recorded from a new container on."""
    recorded = Recorded()
    created, calls = recorded.created, recorded.calls
    create_client = botocore.session.Session.create_client
    make_api_call = botocore.client.BaseClient._make_api_call

    def recording_create_client(self, service_name, *args, **kwargs):
        created.append(service_name)
        return create_client(self, service_name, *args, **kwargs)

    def recording_call(self, operation_name, api_params):
        calls.append(operation_name)
        return make_api_call(self, operation_name, api_params)

    monkeypatch.setattr(botocore.session.Session, "create_client", recording_create_client)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording_call)
    recorded.new_container()
    yield recorded
    recorded.new_container()


def test_a_first_checkout_makes_one_dynamodb_client_and_no_describe_table(client, make_card, fake_stripe,
                                                                          fresh_container):
    card = make_card(stock=5)
    fresh_container.new_container()

    assert json.loads(client.http.get(f"/cards/{card.card_id}").body)["stock"]["available"] == 5
    assert request_checkout(client, card.card_id, quantity=1).status_code == 201
    assert client.http.get(f"/cards/{card.card_id}/widget").status_code == 200

    assert fresh_container.created == ["dynamodb"]
    assert "DescribeTable" not in fresh_container.calls
    assert len(fresh_container.calls) > 3  # it did reach DynamoDB, through the one client


def test_health_makes_one_read(client, fresh_container):
    assert client.http.get("/health").status_code == 200

    assert fresh_container.calls == ["GetItem"]


def test_the_start_up_check_asks_dynamodb_nothing(aws, monkeypatch, fresh_container):
    for module, check in ((startup.secrets, "missing"), (startup.secrets, "unsafe"), (startup, "unsafe_settings")):
        monkeypatch.setattr(module, check, lambda: [])  # a safe stage: what is left is what it asks AWS

    startup.check_or_exit()

    assert fresh_container.calls == [] and fresh_container.created == []


def test_every_model_shares_the_containers_one_client():
    from chalicelib.store import model_base, models

    assert all(issubclass(model, model_base.TableModel) for model in models.all_models().values())
