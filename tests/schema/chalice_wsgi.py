"""The Chalice app as a WSGI app, for schemathesis' in-process transport."""
import base64
from http import HTTPStatus

from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException


class ChaliceWSGI:
    """The Chalice app as a WSGI app, through chalice's local API Gateway (what `chalice local` and
    chalice's test Client use), so schemathesis' WSGI transport calls it in-process: no port, no
    thread. Two things the gateway leaves to its HTTP server are done here as that server and API
    Gateway do them: a body without a Content-Type goes out as application/json, and the gateway's
    own refusals (an unknown path) are answered."""

    def __init__(self, app):
        self.gateway = LocalGateway(app, Config.create())

    def __call__(self, environ, start_response):
        headers = {name[5:].replace("_", "-").lower(): value
                   for name, value in environ.items() if name.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        # The path as sent (still percent-encoded, as API Gateway receives it) and the query.
        path = environ["RAW_URI"].split("?")[0] + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
        try:
            response = self.gateway.handle_request(environ["REQUEST_METHOD"], path, headers, body)
        except LocalGatewayException as refused:
            response = {"statusCode": refused.CODE, "headers": refused.headers, "body": refused.body}
        body = response.get("body")
        if response.get("isBase64Encoded"):
            body = base64.b64decode(body)
        elif isinstance(body, str):
            body = body.encode()
        out = dict(response.get("headers") or {})
        if body is not None and not any(name.lower() == "content-type" for name in out):
            out["Content-Type"] = "application/json"
        pairs = [(name, str(value)) for name, value in out.items()]
        pairs += [(name, str(value)) for name, values in (response.get("multiValueHeaders") or {}).items()
                  for value in values]
        status = response["statusCode"]
        start_response(f"{status} {HTTPStatus(status).phrase}", pairs)
        return [body or b""]
