"""moto server for DynamoDB and Streams, bound to 127.0.0.1, with every request serialized.

moto's backend has no lock of its own, so concurrent conditional writes can interleave and
oversell. One lock around the whole WSGI app makes it behave like DynamoDB's single-item
atomicity (and more): correctness over speed, which is what a local flash sale needs.
"""
import argparse
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, run_simple


def serialized(wsgi_app):
    lock = threading.Lock()

    def app(environ, start_response):
        with lock:
            # Drain the body inside the lock so the response is complete before the next request.
            return list(wsgi_app(environ, start_response))

    return app


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass  # one line per DynamoDB call drowns the stack's log


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5005)
    args = parser.parse_args()
    app = serialized(DomainDispatcherApplication(create_backend_app))
    print(f"moto server (DynamoDB + Streams, serialized) on http://127.0.0.1:{args.port}", flush=True)
    run_simple("127.0.0.1", args.port, app, threaded=True, request_handler=QuietHandler)


if __name__ == "__main__":
    main()
