"""What every pynamodb model shares: its table's name and endpoint (from config), and one connection
(one botocore DynamoDB client) for all of them and for transactions.

pynamodb gives each model its own Connection, so its own botocore client on first use: a container
that touches every table would build 19 clients, each costing milliseconds of CPU and its own
connection pool. TableModel hands every model the shared connection instead, with the model's table
schema registered on it, so no model ever asks DynamoDB for it (no DescribeTable per container)."""
import functools

from pynamodb.connection import Connection, TableConnection
from pynamodb.models import Model

from chalicelib import config


def meta(logical: str):
    class Meta:
        table_name = f"{config.TABLE_PREFIX}{logical}"
        region = config.AWS_REGION
        host = config.DYNAMODB_ENDPOINT
        max_pool_connections = 50

    return Meta


def index_meta(name: str, projection):
    class Meta:
        index_name = name
        region = config.AWS_REGION
        host = config.DYNAMODB_ENDPOINT

    Meta.projection = projection
    return Meta


@functools.lru_cache(maxsize=1)
def connection() -> Connection:
    """The container's one DynamoDB connection: every model's and every transaction's."""
    return Connection(region=config.AWS_REGION, host=config.DYNAMODB_ENDPOINT, max_pool_connections=50)


class TableModel(Model):
    """A tapcard table's model: its requests go through connection(), never a client of its own."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()  # pynamodb's, built once per model with the schema it declares
        shared = connection()
        if table.connection is not shared:
            try:
                shared.add_meta_table(table.get_meta_table())
            except ValueError:  # already registered (another thread got here first)
                pass
            table.connection = shared
        return table
