"""Ops commands, run from a laptop against a stage (AWS credentials from the usual places) or
against the local stack with --local.

  python ops.py [--local] audit CARD_ID        check that no unit is lost or sold twice
  python ops.py [--local] create-seller NAME EMAIL   a seller and its first API key
  python ops.py [--local] new-key SELLER_ID          another API key for a seller (to rotate one)
"""
import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def use_local_stack(dev_json: str | None = None) -> None:
    dev = json.loads(Path(dev_json or os.environ.get("TAPCARD_DEV_JSON", ROOT / ".tapcard-dev.json")).read_text())
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"]
    os.environ.update(stage["environment_variables"])
    os.environ.update({"DYNAMODB_ENDPOINT": dev["dynamodb_endpoint"], "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local", action="store_true", help="use the stack `make run` started")
    parser.add_argument("--dev-json", help="with --local: the stack's .tapcard-dev.json (default: the repo's)")
    commands = parser.add_subparsers(dest="command", required=True)
    audit = commands.add_parser("audit")
    audit.add_argument("card_id")
    seller = commands.add_parser("create-seller")
    seller.add_argument("name")
    seller.add_argument("email")
    new_key = commands.add_parser("new-key")
    new_key.add_argument("seller_id")
    args = parser.parse_args(argv)
    if args.local:
        use_local_stack(args.dev_json)

    if args.command == "audit":
        from chalicelib import audit as audit_module

        report = audit_module.run(args.card_id)
        print(json.dumps({**report.__dict__, "clean": report.clean}, indent=2))
        return 0 if report.clean else 1
    from chalicelib.store import sellers

    if args.command == "new-key":
        print(json.dumps({"seller_id": args.seller_id, "api_key": sellers.issue_api_key_for_existing(args.seller_id)}, indent=2))
        return 0
    seller_id, api_key = sellers.create_seller(args.name, args.email)
    print(json.dumps({"seller_id": seller_id, "api_key": api_key}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
