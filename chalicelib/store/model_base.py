"""What every pynamodb model shares: its table's name and endpoint (from config), and the one
connection transactions use."""
import functools

from pynamodb.connection import Connection

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
    """For transactions, which span tables. One per container: making a botocore client costs
    tens of milliseconds of CPU."""
    return Connection(region=config.AWS_REGION, host=config.DYNAMODB_ENDPOINT, max_pool_connections=50)
