"""The Lambda package as it ships: chalice's `package` for the pinned runtime and architecture, then
the zip finished (bytecode, one trimmed SDK, trimmed Babel). `make package` runs both steps.

    python -m infra.aws.bundle package STAGE OUT_DIR [--merge-template FILE] [--arch host] [--project-dir DIR]
    python -m infra.aws.bundle finish OUT_DIR/deployment.zip

Why each step:
- Runtime. chalice 1.34 takes the Lambda runtime from the Python that runs it (3.11 here) and has no
  setting for it, so `package` reads `lambda_python_version` from .chalice/config.json and hands it
  to chalice, and runs chalice's pip under that runtime's interpreter (pyenv's), so dependencies are
  resolved and their wheels picked for the runtime that will import them. The architecture is
  chalice's own `lambda_architecture` (arm64); `--arch` builds a twin for this machine's CPU, which
  the benchmarks and the deploy tier run (only compiled wheels differ).
- Bytecode. /var/task is read-only, so without .pyc files every cold start compiles every module it
  imports. `finish` compiles every .py with the runtime's interpreter, `unchecked-hash` (Lambda's
  files carry no meaningful mtimes and never change, so the interpreter need not check).
- One SDK. pynamodb needs botocore, so it ships; boto3 ships too, at the same release (requirements.txt),
  rather than mixing our botocore with the runtime's boto3 (AWS updates that on its own schedule).
  Its data is trimmed to the services the app calls (SERVICES, checked in tests/deploy): a client
  for any other service fails at creation with UnknownServiceError, never silently.
- Babel. tapcard speaks en and zh-CN (chalicelib/words.py); LOCALES keeps their chains to root, and
  each locale file keeps only what tapcard reads (LOCALE_KEYS: money and country names). Loading a
  whole file costs a widget's first response ~15 ms, most of it its calendars, whose pickled
  patterns also import babel.dates. The global data keeps what Locale.parse and the money
  formats read (GLOBAL_KEYS): 66 KB to load instead of 461 KB.
- Templates. widgets/'s Jinja2 templates ship compiled to modules (and those to bytecode), so no
  container compiles a template on its first render.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The AWS services the app creates clients for: DynamoDB (pynamodb), SSM (secrets), SES v2 (mail).
SERVICES = ("dynamodb", "s3", "ssm", "sesv2")
# Babel locale files: en and zh-CN with their parents (zh_Hans_CN -> zh_Hans -> zh -> root).
LOCALES = ("root", "en", "zh", "zh_Hans", "zh_Hans_CN")
# What tapcard reads of a locale: format_currency's patterns and symbols (views.format_money) and
# the country names (pages.country_names). tests/deploy compares both with the full Babel's.
LOCALE_KEYS = ("locale_id", "currency_formats", "currency_symbols", "currency_names", "currency_names_plural",
               "currency_unit_patterns", "plural_form", "decimal_formats", "default_numbering_system", "number_symbols",
               "numbering_systems", "territories")
# What tapcard reads of Babel's global data: Locale.parse's aliases and likely subtags (only those of
# the languages shipped: another language has no data to find), currency precisions, the CLDR version.
GLOBAL_KEYS = ("language_aliases", "territory_aliases", "script_aliases", "variant_aliases", "likely_subtags",
               "parent_exceptions", "currency_fractions", "all_currencies", "cldr")
TRIM_BABEL_DATA = """
import json, pickle, sys
from pathlib import Path
tree, locale_keys, global_keys = Path(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
sys.path.insert(0, str(tree))  # the pickles name babel's classes
languages = {path.stem.split("_")[0] for path in (tree / "babel" / "locale-data").glob("*.dat")} | {"und"}
files = {path: locale_keys for path in (tree / "babel" / "locale-data").glob("*.dat")}
files[tree / "babel" / "global.dat"] = global_keys
for path, keys in files.items():
    with path.open("rb") as data:
        kept = {key: value for key, value in pickle.load(data).items() if key in keys}
    if "likely_subtags" in kept:
        kept["likely_subtags"] = {tag: likely for tag, likely in kept["likely_subtags"].items()
                                  if tag.split("_")[0] in languages}
    with path.open("wb") as data:
        pickle.dump(kept, data, protocol=2)
"""
# Never read on Lambda: the SDK's documentation examples, Babel's message-catalog tooling, the
# Swagger UI bundle of Powertools' event handler (chalice routes here).
DROPPED_SUFFIXES = ("/examples-1.json",)
DROPPED_DIRS = ("babel/messages/", "aws_lambda_powertools/event_handler/openapi/swagger_ui/")


def pinned_runtime(stage: str, project_dir: Path = ROOT) -> str:
    config = json.loads((project_dir / ".chalice" / "config.json").read_text())
    return config["stages"].get(stage, {}).get("lambda_python_version") or config["lambda_python_version"]


def runtime_python(runtime: str) -> str:
    """The interpreter of a Lambda runtime name ("python3.13"): $RUNTIME_PYTHON, else pyenv's, else PATH."""
    if os.environ.get("RUNTIME_PYTHON"):
        return os.environ["RUNTIME_PYTHON"]
    version = runtime.removeprefix("python")
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(pyenv.glob(f"{version}.*/bin/python{version}"), key=lambda p: [int(x) for x in p.parts[-3].split(".")])
    if found:
        return str(found[-1])
    on_path = shutil.which(runtime)
    if not on_path:
        sys.exit(f"bundle: no interpreter for {runtime}: install it (pyenv install {version}) or set RUNTIME_PYTHON")
    return on_path


def host_arch() -> str:
    return {"aarch64": "arm64", "arm64": "arm64"}.get(os.uname().machine, "x86_64")


def package(stage: str, out_dir: str, merge_template: str | None, arch: str | None, project_dir: Path = ROOT) -> int:
    """chalice package, for the pinned runtime (and --arch, if given, instead of the configured one)."""
    from chalice import cli
    from chalice.config import Config

    runtime = pinned_runtime(stage, project_dir)
    Config.lambda_python_version = property(lambda self: runtime)
    if arch:
        Config.lambda_architecture = property(lambda self: arch)
    sys.executable = runtime_python(runtime)  # chalice runs pip as [sys.executable, "-c", ...]
    merge = ["--merge-template", merge_template] if merge_template else []
    sys.argv = ["chalice", "--project-dir", str(project_dir), "package", "--stage", stage, *merge, out_dir]
    return cli.main()


def build(stage: str, out_dir: Path, arch: str | None = None, project_dir: Path = ROOT) -> Path:
    """Both steps as `make package` runs them, minus the merge template (it changes sam.json, not
    the zip), for the benchmarks and tests: returns the deployment.zip."""
    common = ["--project-dir", str(project_dir)]
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    subprocess.run([sys.executable, "-m", "infra.aws.bundle", "package", stage, str(out_dir), *common,
                    *(["--arch", arch] if arch else [])], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    zip_path = Path(out_dir) / "deployment.zip"
    subprocess.run([sys.executable, "-m", "infra.aws.bundle", "finish", str(zip_path), "--stage", stage, *common],
                   cwd=ROOT, env=env, check=True)
    return zip_path


# --- finishing the zip ----------------------------------------------------------------------------


def keep(name: str) -> bool:
    """Whether a file of chalice's zip ships."""
    if name.endswith(DROPPED_SUFFIXES) or "/__pycache__/" in name:
        return False
    if name.startswith("botocore/data/"):
        service = name.split("/")[2]
        return "." in service or service in SERVICES  # top-level files (endpoints.json, _retry.json, ...)
    if name.startswith("babel/locale-data/"):
        return name.removeprefix("babel/locale-data/").removesuffix(".dat") in LOCALES
    return not name.startswith(DROPPED_DIRS)


def compile_templates(tree: Path) -> None:
    """widgets/'s files to Python modules in widgets/compiled/ (pages.templates() loads them from
    there), with the app's own Jinja2 settings and the zip's Jinja2 release. Templates include
    scripts and styles, so every file is tried; one that is no template (a JSON document) is left
    out, and would be read from its source."""
    from jinja2 import FileSystemLoader

    from chalicelib import pages

    widgets = tree / "widgets"
    target = widgets / pages.COMPILED_TEMPLATES.relative_to(pages.WIDGETS)
    pages.template_environment(FileSystemLoader(widgets)).compile_templates(target, zip=None, ignore_errors=True)


def compile_tree(directory: Path, python: str) -> None:
    """Every .py to __pycache__/<name>.<tag>.pyc, by the runtime's own interpreter."""
    subprocess.run([python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                    "-d", "/var/task", str(directory)], check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})


def finish(zip_path: str, runtime: str) -> None:
    path = Path(zip_path)
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "task"
        with zipfile.ZipFile(path) as original:
            modes = {}
            for info in original.infolist():
                if keep(info.filename):
                    original.extract(info, tree)
                    modes[info.filename] = info.external_attr
        if (tree / "widgets").is_dir():  # the app's package (not the benchmark's minimal app)
            compile_templates(tree)
        if (tree / "babel").is_dir():
            subprocess.run([runtime_python(runtime), "-I", "-B", "-c", TRIM_BABEL_DATA, str(tree), json.dumps(LOCALE_KEYS),
                            json.dumps(GLOBAL_KEYS)], check=True)
        compile_tree(tree, runtime_python(runtime))
        rebuilt = path.with_suffix(".tmp")
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
            for file in sorted(p for p in tree.rglob("*") if p.is_file()):
                name = file.relative_to(tree).as_posix()
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # reproducible bytes
                info.external_attr = modes.get(name, 0o644 << 16)
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, file.read_bytes(), compresslevel=9)
        rebuilt.replace(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    steps = parser.add_subparsers(dest="step", required=True)
    pack = steps.add_parser("package")
    pack.add_argument("stage")
    pack.add_argument("out_dir")
    pack.add_argument("--merge-template")
    pack.add_argument("--arch", choices=("arm64", "x86_64", "host"), help="instead of lambda_architecture")
    pack.add_argument("--project-dir", type=Path, default=ROOT)
    done = steps.add_parser("finish")
    done.add_argument("zip")
    done.add_argument("--stage", default="dev")
    done.add_argument("--project-dir", type=Path, default=ROOT)
    args = parser.parse_args()
    if args.step == "package":
        arch = host_arch() if args.arch == "host" else args.arch
        return package(args.stage, args.out_dir, args.merge_template, arch, args.project_dir)
    finish(args.zip, pinned_runtime(args.stage, args.project_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
