"""What S3 checks on a browser's form upload (a presigned POST) and moto does not: the signed
policy's conditions. The local stack's moto server serves the after-sales photos' bucket; this
WSGI layer in front of it refuses, as S3 does, a form whose file is outside content-length-range
(400 EntityTooLarge / EntityTooSmall) or whose fields break a condition or whose policy expired
(403 AccessDenied), so a photo too large or of the wrong type fails locally as it would on AWS.
The signature itself is not checked (moto's credentials are made up)."""
from __future__ import annotations

import base64
import io
import json
import time
from datetime import datetime

from werkzeug.formparser import parse_form_data


def _refusal(start_response, status: str, code: str, message: str):
    body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body))),
                            ("Access-Control-Allow-Origin", "*")])
    return [body]


def problem(policy: dict, fields: dict, bucket: str, size: int) -> tuple[str, str, str] | None:
    """(status, code, message) S3 would answer, or None when the form keeps the policy."""
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")).timestamp()
    if expires < time.time():
        return "403 Forbidden", "AccessDenied", "Invalid according to Policy: Policy expired."
    values = {name.lower(): value for name, value in fields.items()}
    values["bucket"] = bucket
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            [(name, wanted)] = condition.items()
            condition = ["eq", "$" + name, wanted]
        operator = condition[0].lower()
        if operator == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if size > high:
                return "400 Bad Request", "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
            if size < low:
                return "400 Bad Request", "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
            continue
        name, wanted = condition[1].lstrip("$").lower(), condition[2]
        given = values.get(name, "")
        if (operator == "eq" and given != wanted) or (operator == "starts-with" and not given.startswith(wanted)):
            return "403 Forbidden", "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {condition}"
    return None


def enforced(app):
    """app, with form uploads held to their policy first."""
    def checked(environ, start_response):
        content_type = environ.get("CONTENT_TYPE", "")
        if environ["REQUEST_METHOD"] != "POST" or not content_type.startswith("multipart/form-data"):
            return app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        copy = {**environ, "wsgi.input": io.BytesIO(body)}
        _, form, files = parse_form_data(copy)
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads the same body again
        if "policy" in form and "file" in files:
            policy = json.loads(base64.b64decode(form["policy"]))
            size = len(files["file"].read())
            refused = problem(policy, dict(form), environ.get("PATH_INFO", "").strip("/").split("/")[0], size)
            if refused:
                return _refusal(start_response, *refused)
        return app(environ, start_response)

    return checked
