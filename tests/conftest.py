"""Settings every tier shares. They are set before chalicelib is imported: it reads them once."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.update({
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    # botocore 1.44 with moto's in-process mock needs this for DynamoDB Streams calls.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "TABLE_PREFIX": "test-",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_secret",
    "PAYMENT_SHEET": "test",
    "PUBLIC_BASE_URL": "http://tapcard.test",
})
os.environ.pop("DYNAMODB_ENDPOINT", None)
os.environ.pop("STRIPE_API_BASE", None)
