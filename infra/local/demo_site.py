"""The demo blog on its own origin, and the receiver for the seller's share webhook.

GET  /                a blog post with the card pasted in through the two-line snippet
POST /hooks/shares    where tapcard posts automatic shares (Standard Webhooks, verified here)
GET  /hooks/shares    what the receiver got, as JSON (for tests and curious people)
PUT  /drafts/NAME     store a post of your own (the body, HTML) to try a snippet in; a `Draft-CSP`
                      header gives the post that Content-Security-Policy (the browser tests use it)
GET  /drafts/NAME     that post
"""
import argparse
import html
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

POST = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>A week with the {title} · demo blog</title>
<style>body{{font:18px/1.6 Georgia,serif;max-width:680px;margin:40px auto;padding:0 16px;color:#222}}
h1{{font-size:32px}} .meta{{color:#777;font-size:14px}}</style></head>
<body><article>
<h1>A week with the {title}</h1>
<p class="meta">Demo blog · served from {origin}, a different origin from the tapcard API</p>
<p>I have been using this for a week and I love it. A few of you asked where to get one, so the
shop gave me a small batch for readers of this blog. Here it is, right in the post:</p>
{snippet}
<p>Stock is live on the card. When it is gone, it is gone.</p>
</article></body></html>
"""


MUG_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 360" width="640" height="360">
<rect width="640" height="360" fill="#f3e9dc"/><rect x="220" y="90" width="180" height="200" rx="18" fill="#e4572e"/>
<path d="M400 140h30a40 40 0 0 1 0 80h-30" fill="none" stroke="#e4572e" stroke-width="22"/>
<ellipse cx="310" cy="92" rx="90" ry="14" fill="#c2461f"/></svg>"""


class Receiver:
    def __init__(self, secret: str | None):
        self.secret = secret
        self.received: list[dict] = []
        self.lock = threading.Lock()

    def accept(self, body: bytes, headers: dict) -> bool:
        if self.secret:
            try:
                Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError as error:
                print(f"[share-receiver] rejected a share: {error}", flush=True)
                return False
        payload = json.loads(body)
        with self.lock:
            if any(r["webhook_id"] == headers.get("webhook-id") for r in self.received):
                return True  # a redelivery: already have it
            self.received.append({"webhook_id": headers.get("webhook-id"), "payload": payload})
        data = payload.get("data") or {}
        print(f"[share-receiver] {payload.get('type')}: {data.get('text') or data}", flush=True)
        return True


def make_handler(page: str, receiver: Receiver):
    drafts: dict[str, tuple[bytes, str | None]] = {}

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, content_type: str, csp: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if csp:
                self.send_header("Content-Security-Policy", csp)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path.split("?")[0] == "/":
                self._send(200, page.encode(), "text/html; charset=utf-8")
            elif self.path == "/mug.svg":
                self._send(200, MUG_SVG.encode(), "image/svg+xml")
            elif self.path == "/hooks/shares":
                with receiver.lock:
                    body = json.dumps(receiver.received).encode()
                self._send(200, body, "application/json")
            elif self.path.split("?")[0] in drafts:
                body, csp = drafts[self.path.split("?")[0]]
                self._send(200, body, "text/html; charset=utf-8", csp)
            else:
                self._send(404, b"not found", "text/plain")

        def do_PUT(self):
            if not self.path.startswith("/drafts/"):
                return self._send(404, b"not found", "text/plain")
            drafts[self.path] = (self.rfile.read(int(self.headers.get("Content-Length") or 0)), self.headers.get("Draft-CSP"))
            self._send(201, b"", "text/plain")

        def do_POST(self):
            if self.path != "/hooks/shares":
                return self._send(404, b"not found", "text/plain")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            ok = receiver.accept(body, headers)
            self._send(204 if ok else 401, b"", "text/plain")

        def log_message(self, format, *args):
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    origin = f"http://127.0.0.1:{args.port}"
    page = POST.format(title=html.escape(os.environ.get("DEMO_CARD_TITLE", "tapcard")),
                       origin=origin, snippet=os.environ["DEMO_SNIPPET"])
    receiver = Receiver(os.environ.get("SHARE_WEBHOOK_SECRET"))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(page, receiver))
    print(f"demo blog on {origin}/ and share receiver on {origin}/hooks/shares", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
