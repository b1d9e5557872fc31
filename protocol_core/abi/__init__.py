"""The contracts' ABIs as compiled (exported by tools/export_abi.py; a test keeps them in step)."""

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def abi(contract: str) -> list[dict[str, Any]]:
    """The ABI of `contract` (e.g. "JobEscrow")."""
    return json.loads(resources.files(__name__).joinpath(f"{contract}.json").read_text())
