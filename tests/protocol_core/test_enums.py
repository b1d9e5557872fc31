"""protocol_core.enums is the contracts' enums, member for member, as solc compiles them."""

import json
import re
import subprocess
from pathlib import Path

import pytest

import protocol_core.abi
from protocol_core.abi import abi
from protocol_core.enums import SOLIDITY_ENUMS

REPO = Path(__file__).resolve().parents[2]
SOLC = REPO / "tools" / "solc-v0.8.30"


def _upper_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


@pytest.fixture(scope="module")
def compiled_enums() -> dict[str, list[str]]:
    """Every enum the interfaces declare, with its members in order, from solc's AST."""
    sources = sorted(str(p.relative_to(REPO)) for p in (REPO / "contracts" / "interfaces").glob("*.sol"))
    request = {
        "language": "Solidity",
        "sources": {path: {"urls": [path]} for path in sources},
        "settings": {
            "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
            "outputSelection": {"*": {"": ["ast"]}},
        },
    }
    result = subprocess.run(
        [str(SOLC), "--standard-json", "--base-path", str(REPO)],
        input=json.dumps(request), capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    output = json.loads(result.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    assert not errors, errors
    enums: dict[str, list[str]] = {}
    for path in sources:
        for node in output["sources"][path]["ast"]["nodes"]:
            if node["nodeType"] == "EnumDefinition":
                enums[node["name"]] = [member["name"] for member in node["members"]]
    return enums


def test_every_interface_enum_has_its_python_twin(compiled_enums):
    assert sorted(compiled_enums) == sorted(SOLIDITY_ENUMS)


@pytest.mark.parametrize("name", sorted(SOLIDITY_ENUMS))
def test_python_enum_matches_solidity_members_and_order(compiled_enums, name):
    python = [(member.name, member.value) for member in SOLIDITY_ENUMS[name]]
    solidity = [(_upper_snake(member), index) for index, member in enumerate(compiled_enums[name])]
    assert python == solidity, f"update protocol_core/enums.py: {name} is {compiled_enums[name]} in Solidity"


def test_every_enum_in_the_shipped_abis_is_known():
    used = set()
    for path in Path(protocol_core.abi.__file__).parent.glob("*.json"):
        text = json.dumps(abi(path.stem))
        used.update(re.findall(r'"enum (\w+)"', text))
    assert used, "the shipped ABIs name no enum: was the export changed?"
    assert used <= set(SOLIDITY_ENUMS), (
        f"enums in the ABIs without a Python twin: {used - set(SOLIDITY_ENUMS)}"
    )
