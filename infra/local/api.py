"""`chalice local` for the dev stage, with three socket fixes; everything else is chalice's server.

- Replies go out without Nagle's delay: chalice's server answers keep-alive requests about 44 ms
  late (Nagle against delayed ACKs); TCP_NODELAY on each connection removes that.
- A connection the server is about to close says so (`Connection: close`), so HTTP/1.1 clients
  do not reuse it and fail.
- A listen backlog big enough for a burst of buyers (socketserver's default is 5).

And, as API Gateway does, `requestContext.identity.sourceIp` is the TCP peer's address (chalice
local always says 127.0.0.1), so tests and benchmarks can be many clients by binding to
127.0.0.2, 127.0.0.3, ...
"""
import argparse
import logging
import sys
from pathlib import Path

from chalice import local
from chalice.cli.factory import CLIFactory

ROOT = Path(__file__).resolve().parents[2]


class NoDelayHandler(local.ChaliceRequestHandler):
    disable_nagle_algorithm = True

    def _generic_handle(self):
        # One gateway per connection: its converter may carry this connection's peer.
        self.local_gateway.event_converter.LOCAL_SOURCE_IP = self.client_address[0]
        super()._generic_handle()

    # chalice binds these to its own _generic_handle when its class is made.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def end_headers(self):
        if self.close_connection:
            self.send_header("Connection", "close")
        super().end_headers()

    def log_message(self, format, *args):
        pass  # the app logs what matters


class BurstServer(local.ThreadedHTTPServer):
    request_queue_size = 256


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    for noisy in ("botocore", "pynamodb", "stripe"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # One Lambda serves one request at a time; here one process serves them all on threads.
    # Fewer GIL hand-offs mean fewer half-done requests waiting on each other.
    sys.setswitchinterval(0.02)
    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=args.stage)
    app_obj = config.chalice_app
    # What chalice.local.create_local_server does, with our handler class.
    local.CustomLocalChalice.__bases__ = (local.LocalChalice, app_obj.__class__)
    app_obj.__class__ = local.CustomLocalChalice
    server = local.LocalDevServer(app_obj, config, "127.0.0.1", args.port,
                                  handler_cls=NoDelayHandler, server_cls=BurstServer)
    server.serve_forever()


if __name__ == "__main__":
    main()
