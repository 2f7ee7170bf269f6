"""A pytest plugin that records every AWS API call tapcard's own code makes (app.py, chalicelib/)
into the file TAPCARD_RECORD_AWS_CALLS names: the operation, what it touches (tables, indexes,
parameters, the sender) and which Lambda function would make it. Calls the tests make to set
things up are left out: only a call with app.py or chalicelib/ on its stack counts.

pynamodb and boto3 both send every call through botocore's BaseClient._make_api_call.

The function is told by the outermost frame of our code on the call's stack (chalice's
middlewares, which wrap every function, do not decide):
- "stream": the stream handlers (app.on_order_change / on_reservation_change / on_group_change,
  social/stream.py);
- "sweeper": the sweep (app.sweep_expired_holds, sweep.py, or one of the jobs it runs);
- "startup": what every container does once (app.py's import, startup.py);
- "api": everything else (routes, and the use cases the integration tier calls directly).
"""
import json
import os
import sys
from pathlib import Path

from botocore.client import BaseClient

ROOT = Path(__file__).resolve().parents[2]
OURS = (str(ROOT / "chalicelib") + os.sep, str(ROOT / "app.py"))
EVENTS = "chalicelib/api/events.py"
ENTRIES = {
    (EVENTS, "on_order_change"): "stream", (EVENTS, "on_reservation_change"): "stream",
    (EVENTS, "on_group_change"): "stream",
    (EVENTS, "sweep_expired_holds"): "sweeper", ("chalicelib/sweep.py", "sweep"): "sweeper",
    ("app.py", "<module>"): "startup",
}
WHOLE_FILES = {"chalicelib/social/stream.py": "stream", "chalicelib/startup.py": "startup"}
# The jobs sweep.sweep runs (tests/deploy/test_iam_policy.py checks the list against sweep.py).
SWEEP_JOBS = {
    ("chalicelib/payment_events.py", "expire_holds"), ("chalicelib/social/shares.py", "retry_due"),
    ("chalicelib/notices.py", "retry_due"), ("chalicelib/social/reservations.py", "announce_openings"),
    ("chalicelib/store/retention.py", "forget_due"), ("chalicelib/grouping.py", "sweep"),
    ("chalicelib/refunds.py", "finish_due"), ("chalicelib/reminders.py", "retry_due"),
    ("chalicelib/reminders.py", "send_due"),
}
MIDDLEWARES = "chalicelib/api/middleware.py"

recorded: set[str] = set()
current_test = {"id": ""}
_original = BaseClient._make_api_call


def _our_frames() -> list[tuple[str, str]]:
    """(path relative to the repository, function name) of our frames, outermost first."""
    frames, frame = [], sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(OURS):
            frames.append((os.path.relpath(filename, ROOT), frame.f_code.co_name))
        frame = frame.f_back
    return frames[::-1]


def function_of(frames: list[tuple[str, str]]) -> str:
    for path, name in frames:
        if path == MIDDLEWARES:
            continue
        if (path, name) in SWEEP_JOBS:
            return "sweeper"
        return ENTRIES.get((path, name)) or WHOLE_FILES.get(path) or "api"
    return "api"


def touched(params: dict) -> dict:
    """What a call names that IAM authorises: tables, indexes, each item of a transaction or
    batch, SSM parameter names, the sender and configuration set of a mail."""
    kept = {key: params[key] for key in ("TableName", "IndexName", "Names", "FromEmailAddress",
                                         "ConfigurationSetName", "Bucket", "Key") if key in params}
    if "TransactItems" in params:
        kept["TransactItems"] = [{kind: body["TableName"]} for item in params["TransactItems"]
                                 for kind, body in item.items()]
    if "RequestItems" in params:  # BatchGetItem: {table: {Keys}}; BatchWriteItem: {table: [requests]}
        kept["RequestItems"] = sorted(params["RequestItems"])
    return kept


def record(service: str, operation: str, params: dict) -> None:
    frames = _our_frames()
    if frames:
        recorded.add(json.dumps({
            "function": function_of(frames), "test": current_test["id"],
            "service": service, "operation": operation, "touches": touched(params)}, sort_keys=True))


def _recording(self, operation_name, api_params):
    record(self.meta.service_model.signing_name, operation_name, api_params)
    return _original(self, operation_name, api_params)


def _record_captured_mail() -> None:
    """The tests capture mail to a file (MAIL_CAPTURE_FILE) where Lambda sends it with SES: a
    captured message counts as the sesv2 SendEmail it stands for."""
    from chalicelib import config, mail

    capture = mail.capture

    def capturing(path, message):
        record("ses", "SendEmail", {"FromEmailAddress": config.MAIL_FROM})
        return capture(path, message)

    mail.capture = capturing


def _record_presigned_photos() -> None:
    """A presigned photo upload or view is signed without calling S3; the browser's request is
    authorised as the function's role: count each as the PutObject or GetObject it grants."""
    from chalicelib import config, photos

    upload_form, view_url = photos.upload_form, photos.view_url

    def uploading(key, *args, **kwargs):
        record("s3", "PutObject", {"Bucket": config.PHOTOS_BUCKET, "Key": key})
        return upload_form(key, *args, **kwargs)

    def viewing(key):
        record("s3", "GetObject", {"Bucket": config.PHOTOS_BUCKET, "Key": key})
        return view_url(key)

    photos.upload_form, photos.view_url = uploading, viewing


def pytest_configure(config):
    BaseClient._make_api_call = _recording


def pytest_runtest_setup(item):
    if not current_test["id"]:  # chalicelib is imported only now: tests/conftest.py has set its settings
        _record_captured_mail()
        _record_presigned_photos()
    current_test["id"] = item.nodeid


def pytest_unconfigure(config):
    BaseClient._make_api_call = _original
    calls = [json.loads(call) for call in sorted(recorded)]
    Path(os.environ["TAPCARD_RECORD_AWS_CALLS"]).write_text(json.dumps(calls, indent=1))
