"""What the hypothesis state machines of a sale share (tests/integration/test_*_state_machine.py):
moto's DynamoDB with every table, the fake Stripe, and their own clock, which the pay calls read."""
import itertools
from types import SimpleNamespace

import boto3
import pytest
from hypothesis.stateful import RuleBasedStateMachine
from moto import mock_aws

from chalicelib import config, paying
from fakes import FakeStripe
from infra.tables import create_all


class SaleMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        create_all(boto3.client("dynamodb", region_name=config.AWS_REGION), config.TABLE_PREFIX)
        self.stripe = FakeStripe()
        self.patch = pytest.MonkeyPatch()
        self.stripe.install(self.patch)
        self.clock = 1_900_000_000
        self.patch.setattr(paying, "time", SimpleNamespace(time=lambda: self.clock))
        self.ids = itertools.count(1)

    def teardown(self):
        self.patch.undo()
        self.mock.stop()
