"""The layers of docs/architecture.md hold: who may import whom, checked on every module's imports."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ("protocol_core", "runtime", "oracle_node", "indexer", "escalation", "arbitration", "worker")
# package -> top-level modules it must never import
FORBIDDEN = {
    "protocol_core": {
        "ape", "sqlalchemy", "prometheus_client", "psycopg", "taskiq", "redis",
        "runtime", "oracle_node", "indexer", "escalation", "arbitration", "devtools", "tests", "scripts",
    },
    "runtime": {"oracle_node", "indexer", "escalation", "arbitration", "devtools", "tests", "scripts"},
    "oracle_node": {"indexer", "escalation", "arbitration", "devtools", "tests", "scripts"},
    "indexer": {"oracle_node", "escalation", "arbitration", "devtools", "tests", "scripts"},
    "escalation": {"oracle_node", "arbitration", "devtools", "tests", "scripts"},
    "arbitration": {"oracle_node", "indexer", "escalation", "devtools", "tests", "scripts"},
    "worker": {"oracle_node", "indexer", "escalation", "arbitration", "devtools", "tests", "scripts"},
    "devtools": {"tests"},
    "bench": {"tests"},
    "scripts": {"tests"},
}  # fmt: skip


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_the_layers_below_it(package):
    modules = sorted((REPO / package).rglob("*.py"))
    if package in SHIPPED and not modules:
        pytest.fail(f"{package}/ has no modules; update SHIPPED")
    wrong = {
        str(path.relative_to(REPO)): sorted(_imports(path) & FORBIDDEN[package])
        for path in modules
        if _imports(path) & FORBIDDEN[package]
    }
    assert not wrong, f"imports across the layers (see docs/architecture.md): {wrong}"


def test_shipped_modules_stay_small():
    sizes = {
        str(path.relative_to(REPO)): len(path.read_text(encoding="utf-8").splitlines())
        for package in SHIPPED
        for path in (REPO / package).rglob("*.py")
    }
    assert sizes, "no shipped modules found"
    too_long = {name: lines for name, lines in sizes.items() if lines > 300}
    assert not too_long, f"split these modules by idea (house style: under ~300 lines): {too_long}"


def test_contracts_stay_small():
    sizes = {
        str(path.relative_to(REPO)): len(path.read_text(encoding="utf-8").splitlines())
        for path in (REPO / "contracts").rglob("*.sol")
        if ".cache" not in path.parts  # ape's copy of the dependencies
    }
    too_long = {name: lines for name, lines in sizes.items() if lines > 350}
    assert not too_long, f"split these contracts by idea (under ~350 lines): {too_long}"
