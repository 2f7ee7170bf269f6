"""Local stand-ins for Mastodon and Bluesky: the endpoints tapcard calls, answered the way the real
services document them, recording what they receive. Tests start one in-process (SocialStandIn);
`python infra/local/social_servers.py --port N` serves one for the local stack.

Mastodon: POST /api/v1/statuses (Bearer token, Idempotency-Key honoured like Mastodon: the same key
returns the first status). Bluesky (XRPC): com.atproto.server.createSession, refreshSession,
com.atproto.repo.createRecord, com.atproto.repo.getRecord. GET /_recorded lists what was posted. Access tokens can be expired on demand,
and the next answers of a path can be scripted (fail_next) to test retries and Retry-After.
"""
from __future__ import annotations

import argparse
import http.server
import itertools
import json
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit


@dataclass
class Scripted:
    path: str
    status: int
    headers: dict = field(default_factory=dict)
    body: dict = field(default_factory=lambda: {"error": "InternalServerError", "message": "scripted failure"})


class SocialStandIn:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.mastodon_tokens = {"mastodon-token-ok"}
        self.bluesky_accounts = {"ada.test": "app-pass-1234"}
        self.statuses: list[dict] = []  # Mastodon statuses created
        self.posts: list[dict] = []  # Bluesky records created
        self.calls: list[tuple[str, str]] = []  # (method, path) of every request
        self.sessions_created = 0
        self.sessions_refreshed = 0
        self._idempotency: dict[tuple[str, str], dict] = {}
        self._access: dict[str, str] = {}  # access token -> did
        self._refresh: dict[str, str] = {}  # refresh token -> did
        self._scripted: list[Scripted] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer((host, port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- control, for tests -----------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "SocialStandIn":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, path: str, status: int, times: int = 1, headers: dict | None = None) -> None:
        """The next `times` requests to path answer status (with headers, e.g. Retry-After)."""
        with self._lock:
            self._scripted.extend(Scripted(path, status, headers or {}) for _ in range(times))

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access.clear()

    def bluesky_posts_by(self, did: str) -> list[dict]:
        return [post for post in self.posts if post["repo"] == did]

    # --- the services ---------------------------------------------------------------------

    def _scripted_answer(self, path: str) -> Scripted | None:
        with self._lock:
            for index, scripted in enumerate(self._scripted):
                if scripted.path == path:
                    return self._scripted.pop(index)
        return None

    def _mastodon_status(self, token: str, key: str | None, body: dict) -> tuple[int, dict]:
        if token not in self.mastodon_tokens:
            return 401, {"error": "The access token is invalid"}
        text = body.get("status")
        if not isinstance(text, str) or not text.strip():
            return 422, {"error": "Validation failed: Text can't be blank"}
        with self._lock:
            if key and (token, key) in self._idempotency:
                return 200, self._idempotency[(token, key)]
            status = {"id": str(next(self._ids)), "content": text, "visibility": body.get("visibility", "public"),
                      "idempotency_key": key, "url": f"{self.url}/@ada/{len(self.statuses) + 1}"}
            self.statuses.append(status)
            if key:
                self._idempotency[(token, key)] = status
        return 200, status

    def _new_session(self, did: str, handle: str) -> dict:
        access, refresh = "acc-" + secrets.token_hex(8), "ref-" + secrets.token_hex(8)
        with self._lock:
            self._access[access] = did
            self._refresh[refresh] = did
        return {"accessJwt": access, "refreshJwt": refresh, "did": did, "handle": handle}

    def _xrpc(self, method: str, name: str, token: str, body: dict, query: dict) -> tuple[int, dict]:
        if name == "com.atproto.server.createSession":
            identifier, password = body.get("identifier"), body.get("password")
            if self.bluesky_accounts.get(identifier) != password:
                return 401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
            self.sessions_created += 1
            return 200, self._new_session(f"did:plc:{identifier.replace('.', '')}", identifier)
        if name == "com.atproto.server.refreshSession":
            with self._lock:
                did = self._refresh.pop(token, None)
            if did is None:
                return 400, {"error": "ExpiredToken", "message": "Token has expired"}
            self.sessions_refreshed += 1
            return 200, self._new_session(did, did)
        did = self._access.get(token)
        if did is None:
            return 400, {"error": "ExpiredToken", "message": "Token has expired"}
        if name == "com.atproto.repo.createRecord" and method == "POST":
            record, rkey = body.get("record") or {}, body.get("rkey") or secrets.token_hex(6)
            if body.get("repo") != did or body.get("collection") != "app.bsky.feed.post":
                return 400, {"error": "InvalidRequest", "message": "repo or collection"}
            if record.get("$type") != "app.bsky.feed.post" or not record.get("text") or not record.get("createdAt"):
                return 400, {"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record"}
            with self._lock:
                if any(p["repo"] == did and p["rkey"] == rkey for p in self.posts):
                    return 500, {"error": "InternalServerError", "message": "Internal Server Error"}
                self.posts.append({"repo": did, "rkey": rkey, "record": record})
            return 200, {"uri": f"at://{did}/app.bsky.feed.post/{rkey}", "cid": "bafy" + secrets.token_hex(8)}
        if name == "com.atproto.repo.getRecord" and method == "GET":
            rkey = (query.get("rkey") or [""])[0]
            for post in self.posts:
                if post["repo"] == (query.get("repo") or [""])[0] and post["rkey"] == rkey:
                    return 200, {"uri": f"at://{did}/app.bsky.feed.post/{rkey}", "value": post["record"]}
            return 400, {"error": "RecordNotFound", "message": "Could not locate record"}
        return 404, {"error": "MethodNotImplemented"}

    def _handler(self):
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                standin.calls.append((method, parts.path))
                scripted = standin._scripted_answer(parts.path)
                if scripted:
                    return self._answer(scripted.status, scripted.body, scripted.headers)
                try:
                    if "form-urlencoded" in (self.headers.get("Content-Type") or ""):
                        body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                    else:
                        body = json.loads(raw) if raw.strip() else {}
                except ValueError:
                    return self._answer(400, {"error": "InvalidRequest", "message": "bad JSON"})
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
                if parts.path == "/api/v1/statuses" and method == "POST":
                    return self._answer(*standin._mastodon_status(token, self.headers.get("Idempotency-Key"), body))
                if parts.path == "/_recorded" and method == "GET":  # for e2e checks and curious developers
                    return self._answer(200, {"statuses": standin.statuses, "posts": standin.posts})
                if parts.path.startswith("/xrpc/"):
                    return self._answer(*standin._xrpc(method, parts.path[6:], token, body, parse_qs(parts.query)))
                return self._answer(404, {"error": "Record not found"})

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def log_message(self, *args):
                pass

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8430)
    args = parser.parse_args()
    standin = SocialStandIn(port=args.port)
    print(f"Mastodon and Bluesky stand-ins on {standin.url} "
          f"(Mastodon token {next(iter(standin.mastodon_tokens))}; Bluesky ada.test / app-pass-1234)", flush=True)
    standin.server.serve_forever()


if __name__ == "__main__":
    main()
