"""Cold start: what a new Lambda container pays before it answers a card or widget request.

Each sample is a fresh Python process. It times importing the Lambda entry point (app.py), which is
all the card and widget routes import (the widget's Jinja2 loads on its first render, timed on its
own line), next to `import pynamodb.models` alone, which every route needs anyway. The ratio is
the price of everything that is tapcard's own choice; the target is at most 1.3. It also prints
the deployment package's size (building it with `make package` if build/dev/ has none).

Both sides are timed from bytecode: the libraries have theirs from pip, and app.py and chalicelib/
are compiled first (into __pycache__/, even where PYTHONDONTWRITEBYTECODE is set), otherwise the
app would pay for compiling its own source on every run while pynamodb does not.

Timing-sensitive: run it on a quiet machine.

    .venv/bin/python bench/cold_start.py [--runs 21]

The last line printed is JSON: {"ratio", "app_import_ms", "baseline_import_ms", ...}.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")

TIMED = {
    "baseline": "import pynamodb.models",
    "app": "import app",
    # What the widget route adds on its first call: Jinja2 and its template.
    "widget": "import app\nfrom chalicelib import pages\npages.templates().get_template('widget.html')",
}
PROBE = """
import time
t0 = time.perf_counter()
{code}
print((time.perf_counter() - t0) * 1000)
"""


def sample(code: str) -> float:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TAPCARD_STAGE": "prod",
           "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)  # no start-up check: it would call AWS
    out = subprocess.run([PYTHON, "-c", PROBE.format(code=code)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def compile_app() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([PYTHON, "-m", "compileall", "-q", "app.py", "chalicelib"], cwd=ROOT, env=env, check=True)


def package_size() -> int:
    zip_path = ROOT / "build" / "dev" / "deployment.zip"
    if not zip_path.exists():
        subprocess.run(["make", "-s", "package", "STAGE=dev"], cwd=ROOT, check=True)
    return zip_path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()

    compile_app()
    for code in TIMED.values():  # warm the OS file cache once
        sample(code)
    times = {name: [] for name in TIMED}
    for _ in range(args.runs):  # interleaved, so a noisy moment hurts every figure alike
        for name, code in TIMED.items():
            times[name].append(sample(code))
    median = {name: statistics.median(values) for name, values in times.items()}
    fastest = {name: min(values) for name, values in times.items()}
    ratio = median["app"] / median["baseline"]
    size = package_size()

    print(f"                                  median  fastest  (ms, {args.runs} fresh processes each)")
    print(f"import pynamodb.models           {median['baseline']:7.1f}  {fastest['baseline']:7.1f}")
    print(f"import app (card, widget routes) {median['app']:7.1f}  {fastest['app']:7.1f}   ratio {ratio:.2f} (target <= 1.3)")
    print(f"  + the widget's first render    {median['widget']:7.1f}  {fastest['widget']:7.1f}")
    print(f"deployment package               {size / 1e6:7.1f} MB (build/dev/deployment.zip)")
    print(json.dumps({
        "ratio": round(ratio, 3), "app_import_ms": round(median["app"], 1),
        "baseline_import_ms": round(median["baseline"], 1),
        "ratio_fastest": round(fastest["app"] / fastest["baseline"], 3),
        "widget_first_render_ms": round(median["widget"], 1),
        "runs": args.runs, "package_bytes": size, "ok": ratio <= 1.3,
    }))


if __name__ == "__main__":
    main()
