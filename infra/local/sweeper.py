"""Runs the hold sweeper on a schedule, as EventBridge runs it every minute on AWS."""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SCHEDULED_EVENT = {
    "version": "0", "id": "local", "detail-type": "Scheduled Event", "source": "aws.events",
    "account": "000000000000", "time": "", "region": "us-east-1", "resources": [], "detail": {},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=float, default=5.0, help="seconds between sweeps")
    args = parser.parse_args()
    import app

    print(f"hold sweeper every {args.every:g}s", flush=True)
    while True:
        try:
            result = app.sweep_expired_holds(SCHEDULED_EVENT, None)
            if result.get("expired"):
                print(f"expired {result['expired']} hold(s)", flush=True)
        except Exception as error:  # keep sweeping; the next run retries
            print(f"sweep failed: {error!r}", flush=True)
        time.sleep(args.every)


if __name__ == "__main__":
    main()
