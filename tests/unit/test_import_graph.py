"""The shape of chalicelib, read from its source: no import cycles (lazy imports and chalicelib.later
count), no module touching another module's _private names, the domain free of infrastructure,
pynamodb and the item models only in the store."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "chalicelib"
INFRASTRUCTURE = ("boto3", "botocore", "pynamodb", "stripe", "chalice")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def resolve(name: str) -> str | None:
    """The chalicelib module an imported name lives in (a module, or a name inside one)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> list[tuple[str, str | None]]:
    """(the module imported, the name taken from it or None) for every import, at any depth."""
    path = MODULES[module]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            found += [(base, alias.name) for alias in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "later" and node.args
              and isinstance(node.args[0], ast.Constant)):  # chalicelib.later("chalicelib.x"): imported on first use
            found.append((node.args[0].value, None))
    return found


def graph() -> dict[str, set[str]]:
    edges = {}
    for module in MODULES:
        targets = set()
        for base, name in imports_of(module):
            target = resolve(f"{base}.{name}" if name else base)
            if target and target != module and target != "chalicelib":
                targets.add(target)
        edges[module] = targets
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(module):
        state[module] = "visiting"
        stack.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == "visiting":
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[module] = "done"
        return None

    for module in sorted(edges):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_chalicelib_has_no_import_cycle_lazy_imports_included():
    assert find_cycle(graph()) is None


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_module_touches_another_modules_private_names():
    reaches = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        aliases = {}  # local name -> the chalicelib module it is
        for base, name in imports_of(module):
            target = resolve(f"{base}.{name}" if name else base)
            if name and target == f"{base}.{name}":
                aliases[name] = target
            elif name and name.startswith("_") and not name.startswith("__") and target and target != module:
                reaches.append(f"{module} imports {target}.{name}")
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and aliases[node.value.id] != module
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                reaches.append(f"{module} uses {aliases[node.value.id]}.{node.attr}")
    assert reaches == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("chalicelib.domain")))
def test_the_domain_imports_no_infrastructure(module):
    assert [base for base, _ in imports_of(module) if base.split(".")[0] in INFRASTRUCTURE] == []


def test_pynamodb_and_the_item_models_are_used_only_in_the_store():
    outside = [f"{module} imports {base}.{name or ''}" for module in MODULES if not module.startswith("chalicelib.store")
               for base, name in imports_of(module)
               if base.split(".")[0] == "pynamodb"
               or (base.startswith("chalicelib.store.") and base.endswith("models") and name != "tables_reachable")]
    assert outside == []
