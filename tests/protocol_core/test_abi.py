"""The ABIs shipped for the daemons are the ones the contracts compile to, entry for entry."""

from pathlib import Path
from typing import Any

import pytest

import protocol_core.abi
from protocol_core.abi import abi

SHIPPED = sorted(path.stem for path in Path(protocol_core.abi.__file__).parent.glob("*.json"))


@pytest.mark.parametrize("name", SHIPPED)
def test_exported_abi_matches_compiled_contract(project, name):
    compiled = [entry.model_dump(mode="json", by_alias=True) for entry in project.get_contract(name).abi]
    shipped = abi(name)
    assert _entries(shipped) == _entries(compiled), "run `python tools/export_abi.py` after `ape compile`"


def test_comparison_sees_outputs_indexed_flags_and_mutability():
    view = {
        "type": "function",
        "name": "f",
        "inputs": [],
        "outputs": [{"type": "uint8"}],
        "stateMutability": "view",
    }
    event = {"type": "event", "name": "E", "inputs": [{"name": "a", "type": "address", "indexed": True}]}
    assert _entries([view]) != _entries([{**view, "outputs": [{"type": "uint16"}]}])
    assert _entries([view]) != _entries([{**view, "stateMutability": "nonpayable"}])
    assert _entries([event]) != _entries([{**event, "inputs": [{**event["inputs"][0], "indexed": False}]}])


def _params(params: list[dict[str, Any]]) -> tuple:
    return tuple(
        (
            p.get("name", ""),
            p.get("type"),
            p.get("internalType"),
            bool(p.get("indexed", False)),
            _params(p.get("components", [])),
        )
        for p in params
    )


def _entries(entries: list[dict[str, Any]]) -> list[tuple]:
    """Everything a caller relies on: kind, name, inputs and outputs (names, types, indexed), mutability."""
    return sorted(
        (
            e["type"],
            e.get("name", ""),
            _params(e.get("inputs", [])),
            _params(e.get("outputs", [])),
            e.get("stateMutability", ""),
            bool(e.get("anonymous", False)),
        )
        for e in entries
    )
