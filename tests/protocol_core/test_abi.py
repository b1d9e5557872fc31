"""The ABIs shipped for the daemons are the ones the contracts compile to."""

from pathlib import Path

import pytest

import protocol_core.abi
from protocol_core.abi import abi

SHIPPED = sorted(path.stem for path in Path(protocol_core.abi.__file__).parent.glob("*.json"))


@pytest.mark.parametrize("name", SHIPPED)
def test_exported_abi_matches_compiled_contract(project, name):
    compiled = [entry.model_dump(mode="json", by_alias=True) for entry in project.get_contract(name).abi]
    shipped = abi(name)
    assert _signatures(shipped) == _signatures(compiled), (
        "run `python tools/export_abi.py` after `ape compile`"
    )


def _signatures(entries: list[dict]) -> list[tuple[str, str, tuple]]:
    return sorted(
        (e["type"], e.get("name", ""), tuple(i.get("type") for i in e.get("inputs", []))) for e in entries
    )
