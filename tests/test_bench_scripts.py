"""`make bench` runs each bench/<name>.py as a script, so Python puts bench/ first on sys.path; a script
named like one of the project's packages would then import itself in the package's place (bench/indexer.py
did: `make bench` stopped there). Such a script takes its folder off sys.path before any project import."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {path.parent.name for path in REPO.glob("*/__init__.py")}
SHADOWING = sorted(path for path in (REPO / "bench").glob("*.py") if path.stem in PACKAGES)


def test_the_check_sees_the_scripts_that_share_a_package_name() -> None:
    assert {"indexer", "escalation", "arbitration"} <= {path.stem for path in SHADOWING}


@pytest.mark.parametrize("script", SHADOWING, ids=lambda path: path.name)
def test_a_bench_script_named_like_a_package_strips_its_folder_before_project_imports(script: Path) -> None:
    body = ast.parse(script.read_text(encoding="utf-8")).body
    strip = next(
        (
            i
            for i, node in enumerate(body)
            if "sys.path[:]" in ast.unparse(node) and "__file__" in ast.unparse(node)
        ),
        None,
    )
    assert strip is not None, f"{script.name} must take bench/ off sys.path (see bench/escalation.py)"
    for node in body[:strip]:
        if isinstance(node, ast.ImportFrom | ast.Import):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            assert not any(name.split(".")[0] in PACKAGES for name in names), (
                f"{script.name} imports {names} before it takes bench/ off sys.path"
            )
