"""A pytest plugin that records every AWS API call tapcard's own code makes (app.py, chalicelib/),
as IAM action names, into the file TAPCARD_RECORD_AWS_CALLS names. Calls the tests make to set
things up are left out: only a call with app.py or chalicelib/ on its stack counts.

pynamodb and boto3 both send every call through botocore's BaseClient._make_api_call.
"""
import json
import os
import sys
from pathlib import Path

from botocore.client import BaseClient

ROOT = Path(__file__).resolve().parents[2]
OURS = (str(ROOT / "chalicelib") + os.sep, str(ROOT / "app.py"))
performed: set[str] = set()
_original = BaseClient._make_api_call


def _from_our_code() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith(OURS):
            return True
        frame = frame.f_back
    return False


def _recording(self, operation_name, api_params):
    if _from_our_code():
        performed.add(f"{self.meta.service_model.signing_name}:{operation_name}")
    return _original(self, operation_name, api_params)


def pytest_configure(config):
    BaseClient._make_api_call = _recording


def pytest_unconfigure(config):
    BaseClient._make_api_call = _original
    Path(os.environ["TAPCARD_RECORD_AWS_CALLS"]).write_text(json.dumps(sorted(performed), indent=2))
