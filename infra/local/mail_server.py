"""The local stack's mail page: what tapcard sent, read from the capture file the API, the stream
poller and the sweeper append to (MAIL_CAPTURE_FILE, chalicelib/mail.py); no SMTP, no SES.

GET /mail lists every message, newest first (HTML: each message's text, and its HTML in a
sandboxed frame); GET /mail?format=json answers the list as JSON [{to, subject, text, html,
sent_at}], oldest first. `python infra/local/mail_server.py --port N --file PATH`.
"""
from __future__ import annotations

import argparse
import html
import http.server
import json
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from chalicelib.mail import captured  # noqa: E402


def page(messages: list[dict]) -> str:
    items = "".join(
        f"<li><p><b>{html.escape(m.get('subject', ''))}</b> to {html.escape(m.get('to', ''))}"
        f" at {int(m.get('sent_at') or 0)}</p><pre>{html.escape(m.get('text', ''))}</pre>"
        f"<iframe sandbox=\"\" width=\"600\" height=\"300\" srcdoc=\"{html.escape(m.get('html', ''), quote=True)}\">"
        f"</iframe></li>"
        for m in reversed(messages))
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>tapcard mail</title></head><body>"
            f"<h1>Mail sent by the local stack ({len(messages)})</h1><ol>{items}</ol></body></html>")


def handler(path: str):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urlsplit(self.path)
            if parts.path not in ("/mail", "/mail/"):
                return self._answer(404, "application/json", b'{"error": "not found"}')
            messages = captured(path)
            if parse_qs(parts.query).get("format") == ["json"]:
                return self._answer(200, "application/json", json.dumps(messages, ensure_ascii=False).encode())
            return self._answer(200, "text/html; charset=utf-8", page(messages).encode())

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8440)
    parser.add_argument("--file", required=True)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler(args.file))
    print(f"captured mail on http://127.0.0.1:{args.port}/mail", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
