"""`chalice local` for the dev stage, with one fix: replies go out without Nagle's delay.

Chalice's local server answers keep-alive requests about 44 ms late (Nagle against delayed
ACKs); TCP_NODELAY on each connection removes that. Everything else is chalice's own server.
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

    def log_message(self, format, *args):
        pass  # the app logs what matters


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    for noisy in ("botocore", "pynamodb", "stripe"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=args.stage)
    app_obj = config.chalice_app
    # What chalice.local.create_local_server does, with our handler class.
    local.CustomLocalChalice.__bases__ = (local.LocalChalice, app_obj.__class__)
    app_obj.__class__ = local.CustomLocalChalice
    server = local.LocalDevServer(app_obj, config, "127.0.0.1", args.port, handler_cls=NoDelayHandler)
    server.serve_forever()


if __name__ == "__main__":
    main()
