"""localstripe bound to 127.0.0.1 with its store in memory.

Its own CLI binds every interface and pickles the whole store to /tmp on each write.
"""
import argparse
import logging

from aiohttp import web
from localstripe import resources

resources.Store.dump_to_disk = lambda self: None  # keep the store in memory only

from localstripe.server import app  # noqa: E402  (after the store is patched)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8420)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(f"localstripe on http://127.0.0.1:{args.port}", flush=True)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
