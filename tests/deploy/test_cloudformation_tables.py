"""The packaged tables deploy through CloudFormation (moto's), and the app works on what they made."""
import json
import re

import boto3
from moto import mock_aws

from infra.aws.template import tables_only
from infra.tables import TABLES


def test_the_packaged_tables_deploy_into_cloudformation_as_defined(packages):
    template = tables_only(packages["prod"].template, "tapcard-prod-")
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name="us-east-1")
        cloudformation.create_stack(StackName="tapcard-prod", TemplateBody=json.dumps(template))
        assert cloudformation.describe_stacks(StackName="tapcard-prod")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        assert sorted(dynamodb.list_tables()["TableNames"]) == sorted(f"tapcard-prod-{t}" for t in TABLES)
        for logical, spec in TABLES.items():
            table = dynamodb.describe_table(TableName=f"tapcard-prod-{logical}")["Table"]
            assert table["KeySchema"] == spec["KeySchema"]
            assert table.get("DeletionProtectionEnabled") is True
            indexes = {i["IndexName"]: i["KeySchema"] for i in table.get("GlobalSecondaryIndexes", [])}
            assert indexes == {i["IndexName"]: i["KeySchema"] for i in spec.get("GlobalSecondaryIndexes", [])}
        orders = dynamodb.describe_table(TableName="tapcard-prod-orders")["Table"]
        assert orders["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_the_integration_tier_passes_against_the_tables_the_packaged_template_deployed(integration_run):
    run, _ = integration_run
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    passed = re.search(r"(\d+) passed", run.stdout)
    assert passed and int(passed.group(1)) >= 50 and " failed" not in run.stdout, run.stdout[-2000:]
