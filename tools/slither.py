"""Run slither on the project's contracts; exit non-zero on any finding of medium impact or above.

Usage, from the repo root (the Makefile's `lint` target does this):

    export PATH=$PWD/node_modules/.bin:$PWD/.venv/bin:$PATH SOLCX_BINARY_PATH=$PWD/tools
    .venv/bin/python tools/slither.py [--all]

crytic-compile's default asks solc for `--combined-json`, which the solc front in tools/ (the npm
`solc` package behind a node script) does not answer. So this script writes a solc standard-JSON
input for contracts/*.sol and contracts/test/*.sol (interfaces and OpenZeppelin come in through
their imports), with the compiler settings of ape-config.yaml, to a temporary file, and hands it
to slither with `--compile-force-framework solc-json --solc tools/solc-v<version>`. Only the AST is
requested, which is all slither's detectors read: a run takes about 5 s instead of 15.

Findings in node_modules (OpenZeppelin) are filtered out. Optimization and informational findings
are left out unless `--all` is given; they never fail the run. Silence a false positive in the
Solidity with `// slither-disable-next-line <detector>` and a one-line reason.

Exit status: 0 clean, 1 medium/high findings, 2 slither or the compiler failed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SOURCE_GLOBS = ("contracts/*.sol", "contracts/test/*.sol")
REMAPPINGS = ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"]
FILTER_PATHS = "node_modules"
FAILING_IMPACTS = ("High", "Medium")
IMPACT_ORDER = ("High", "Medium", "Low", "Informational", "Optimization")


def ape_solidity_settings(config: Path) -> dict[str, str]:
    """The scalar `key: value` entries of the top-level `solidity:` block of ape-config.yaml.

    A few lines instead of a YAML dependency: the block holds flat scalars (and a list, skipped).
    """
    settings: dict[str, str] = {}
    in_block = False
    for raw in config.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            in_block = line == "solidity:"
            continue
        key, sep, value = line.strip().partition(":")
        if in_block and sep and value.strip():
            settings[key] = value.strip().strip("\"'")
    return settings


def standard_json_input(sources: list[str], settings: dict[str, str]) -> dict[str, Any]:
    """A solc standard-JSON input that reads `sources` (repo-relative paths) from disk."""
    return {
        "language": "Solidity",
        "sources": {path: {"urls": [path]} for path in sources},
        "settings": {
            "remappings": REMAPPINGS,
            "evmVersion": settings["evm_version"],
            "viaIR": settings.get("via_ir", "false").lower() == "true",
            "optimizer": {"enabled": True, "runs": int(settings.get("optimization_runs", "200"))},
            # Slither's detectors work on the AST alone. Without per-contract output solc skips code
            # generation, which takes solcjs about 10 s with viaIR (`ape compile` covers that part).
            "outputSelection": {"*": {"": ["ast"]}},
        },
    }


def find_slither() -> str:
    """The repo's .venv/bin/slither, else the one on PATH."""
    local = REPO / ".venv" / "bin" / "slither"
    if local.is_file():
        return str(local)
    found = shutil.which("slither")
    if found is None:
        sys.exit("slither not found: run `make setup` (it installs slither-analyzer into .venv)")
    return found


def run_slither(input_file: Path, solc: Path, report: Path) -> subprocess.CompletedProcess[str]:
    """Run slither on the standard-JSON input; the findings go to `report` as JSON."""
    command = [
        find_slither(),
        str(input_file),
        "--compile-force-framework", "solc-json",
        "--solc", str(solc),
        "--filter-paths", FILTER_PATHS,
        "--fail-medium",
        "--json", str(report),
        "--disable-color",
    ]  # fmt: skip
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)


def describe(finding: dict[str, Any]) -> str:
    """One finding as slither prints it, headed by impact, confidence and detector."""
    header = f"[{finding['impact']}/{finding['confidence']}] {finding['check']}"
    description = str(finding["description"]).strip()
    return f"{header}\n    " + description.replace("\n", "\n    ")


def main() -> int:
    parser = argparse.ArgumentParser(description="Run slither on contracts/; fail on medium or above.")
    parser.add_argument("--all", action="store_true", help="also print informational and optimization ones")
    args = parser.parse_args()

    settings = ape_solidity_settings(REPO / "ape-config.yaml")
    solc = REPO / "tools" / f"solc-v{settings['version']}"
    sources = sorted(str(p.relative_to(REPO)) for glob in SOURCE_GLOBS for p in REPO.glob(glob))

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="slither-") as tmp:
        input_file = Path(tmp) / "standard-input.json"
        input_file.write_text(json.dumps(standard_json_input(sources, settings), indent=2), encoding="utf-8")
        report_file = Path(tmp) / "report.json"
        completed = run_slither(input_file, solc, report_file)
        report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else {}
    elapsed = time.monotonic() - started

    if not report.get("success"):
        detail = report.get("error") or completed.stdout + completed.stderr
        print(f"slither failed (exit {completed.returncode}):\n{detail}", file=sys.stderr)
        return 2

    findings = report.get("results", {}).get("detectors", [])
    findings.sort(key=lambda f: (IMPACT_ORDER.index(f["impact"]), f["check"]))
    shown_impacts = IMPACT_ORDER if args.all else ("High", "Medium", "Low")
    for finding in findings:
        if finding["impact"] in shown_impacts:
            print(describe(finding), end="\n\n")

    counts = {impact: sum(f["impact"] == impact for f in findings) for impact in IMPACT_ORDER}
    summary = ", ".join(f"{n} {impact.lower()}" for impact, n in counts.items())
    failing = sum(counts[impact] for impact in FAILING_IMPACTS)
    verdict = f"FAIL: {failing} at medium or above" if failing else "OK: nothing at medium or above"
    print(f"slither on {len(sources)} files in {elapsed:.1f}s: {summary}. {verdict}.")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
