"""Share channels cannot reach inside a network (issue 13, case 4): every spelling of a private
address is refused when saved, every address a name resolves to is checked at each send (the
connection is pinned to the checked one), redirects are not followed, and what a remote answered
never reaches the seller. Guards are checked without connecting anywhere but 127.0.0.1."""
import http.server
import socket
import threading
import time

import pytest

from chalicelib import config
from chalicelib.domain import InvalidRequest
from chalicelib.social import rules, senders
from chalicelib.social.channels import WEBHOOK, Channel
from chalicelib.social.senders import ChannelError, Post

PRIVATE_SPELLINGS = [
    "https://2130706433/", "https://0x7f000001/", "https://127.1/", "https://0177.0.0.1/",
    "https://2852039166/", "https://169.254.169.254/latest/meta-data/", "https://localhost./",
    "https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://[fd00::1]/", "https://10.0.0.1/",
    "https://192.168.1.1/", "https://100.64.0.1/", "https://0.0.0.0/",
]


@pytest.mark.parametrize("url", PRIVATE_SPELLINGS)
def test_a_private_address_in_any_spelling_is_refused_when_saved(url):
    with pytest.raises(InvalidRequest):
        rules.channel_url(url, "url", allow_loopback_http=False)


def test_a_public_name_is_taken_when_saved():
    assert rules.channel_url("https://hooks.example.com/t", "url", allow_loopback_http=False) == "https://hooks.example.com/t"


def post() -> Post:
    return Post(share_id="shr_1", kind="order.shared", text="Ada got a mug", link="https://x.example/p/1",
                title="Mug", description="", data={"text": "Ada got a mug"}, created_at=time.time())


def webhook(url: str) -> Channel:
    return Channel(channel_id="ch_1", type=WEBHOOK, url=url, secret="whsec_" + "A" * 32)


@pytest.mark.parametrize("resolved", ["169.254.169.254", "10.1.2.3", "127.0.0.1", "::1", "fd12::1"])
def test_a_name_that_resolves_inside_a_network_is_not_sent_to(monkeypatch, resolved):
    monkeypatch.setattr(config, "ALLOW_LOOPBACK_CHANNELS", False)
    family = socket.AF_INET6 if ":" in resolved else socket.AF_INET
    # A public address first, the private one second: every address must pass, not just the first.
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443)),
        (family, socket.SOCK_STREAM, 6, "", (resolved, 443)),
    ])
    connected = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connected.append(a) or pytest.fail("connected"))

    with pytest.raises(ChannelError) as refused:
        senders.send(webhook("https://hooks.example.com/t"), post())

    assert refused.value.final and "not allowed" in refused.value.reason
    assert connected == []


class Remote(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_POST(self):  # noqa: N802
        Remote.hits.append(self.path)
        self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/target")
            self.end_headers()
        else:
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"internal: db password hunter2")

    do_GET = do_POST

    def log_message(self, *args):
        pass


@pytest.fixture
def remote():
    Remote.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), Remote)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_redirect_is_not_followed(monkeypatch, remote):
    monkeypatch.setattr(config, "ALLOW_LOOPBACK_CHANNELS", True)
    with pytest.raises(ChannelError) as refused:
        senders.send(webhook(f"{remote}/redirect"), post())

    assert refused.value.final and "redirect" in refused.value.reason
    assert Remote.hits == ["/redirect"]


def test_what_the_remote_answered_is_not_told_to_the_seller(monkeypatch, remote):
    monkeypatch.setattr(config, "ALLOW_LOOPBACK_CHANNELS", True)
    with pytest.raises(ChannelError) as failed:
        senders.send(webhook(f"{remote}/hook"), post())

    assert failed.value.reason == "HTTP 500"
    assert "hunter2" not in str(failed.value)


def test_loopback_is_refused_at_send_time_where_the_stage_does_not_allow_it(monkeypatch, remote):
    monkeypatch.setattr(config, "ALLOW_LOOPBACK_CHANNELS", False)
    with pytest.raises(ChannelError, match="not allowed"):
        senders.send(webhook(f"{remote}/hook"), post())
    assert Remote.hits == []
