"""infra/tables.py is the one definition of the tables; the pynamodb models must agree with it,
or the app would read a table the local stack and the AWS template never made."""
import pytest

from chalicelib.store.models import all_models
from infra.tables import TABLES


def as_set(entries):
    return {tuple(sorted(entry.items())) for entry in entries}


@pytest.mark.parametrize("logical", sorted(TABLES))
def test_model_keys_and_indexes_match_the_table_definition(logical):
    schema = all_models()[logical]._get_schema()
    table = TABLES[logical]

    assert as_set(schema["key_schema"]) == as_set(table["KeySchema"])
    assert as_set(schema["attribute_definitions"]) == as_set(table["AttributeDefinitions"])
    model_indexes = {index["index_name"]: as_set(index["key_schema"]) for index in schema["global_secondary_indexes"]}
    table_indexes = {index["IndexName"]: as_set(index["KeySchema"]) for index in table.get("GlobalSecondaryIndexes", [])}
    assert model_indexes == table_indexes


def test_every_table_has_a_model():
    assert set(all_models()) == set(TABLES)
