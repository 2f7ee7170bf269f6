"""The README's Layout section is the map a newcomer reads: it names every module of chalicelib/
and every top-level folder, and nothing that is not there."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def layout_block() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Layout"):]
    return section[section.index("```") + 3:].split("```")[0].strip("\n").splitlines()


def layout_paths() -> set[str]:
    """The paths the tree in the block names, built from its indentation."""
    paths, parents = set(), []
    for line in layout_block():
        match = re.match(r"^( *)(\S+)", line)
        if not match or line.startswith(" " * 20):  # a continued description
            continue
        depth = len(match.group(1)) // 2
        parents = parents[:depth] + [match.group(2)]
        paths.add("".join(parents).rstrip("/"))
    return paths


def test_the_layout_names_every_module_of_chalicelib_and_nothing_else():
    modules = {str(path.relative_to(ROOT)) for path in (ROOT / "chalicelib").rglob("*.py")
               if path.name != "__init__.py"}
    named = {path for path in layout_paths() if path.startswith("chalicelib/") and path.endswith(".py")}
    assert named == modules


def test_the_layout_names_every_top_level_folder_that_holds_code():
    folders = {path.name for path in ROOT.iterdir() if path.is_dir() and not path.name.startswith(".")
               and path.name not in ("node_modules", "build", "test-artifacts", "__pycache__")}
    named = {path.split("/")[0] for path in layout_paths()}
    assert folders <= named
