"""The AWS tables come from the same definitions as the local ones."""
from infra.aws.template import merge_template, resource_name
from infra.tables import TABLES


def test_every_table_is_in_the_template_with_the_same_keys():
    resources = merge_template("prod")["Resources"]
    for logical, spec in TABLES.items():
        properties = resources[resource_name(logical)]["Properties"]
        assert properties["KeySchema"] == spec["KeySchema"]
        assert properties["AttributeDefinitions"] == spec["AttributeDefinitions"]
        assert properties.get("GlobalSecondaryIndexes") == spec.get("GlobalSecondaryIndexes")
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert properties["DeletionProtectionEnabled"] is True


def test_the_orders_stream_carries_both_images_and_feeds_the_handler_one_record_at_a_time():
    resources = merge_template("dev")["Resources"]
    assert resources["OrdersTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    mapping = resources["OnOrderChange"]["Properties"]["Events"]["OnOrderChangeDynamodbEventSource"]["Properties"]
    assert mapping["Stream"] == {"Fn::GetAtt": ["OrdersTable", "StreamArn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert resources["OrdersTable"]["Properties"]["DeletionProtectionEnabled"] is False


def test_the_reservations_stream_feeds_its_handler_the_same_way():
    resources = merge_template("dev")["Resources"]
    mapping = resources["OnReservationChange"]["Properties"]["Events"]["OnReservationChangeDynamodbEventSource"]["Properties"]
    assert mapping["Stream"] == {"Fn::GetAtt": ["ReservationsTable", "StreamArn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
