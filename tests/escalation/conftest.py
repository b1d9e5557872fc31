"""Makes `escalation` the package at the repo root, not this test folder (tests/ is on sys.path)."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[:1] != [ROOT]:
    sys.path.insert(0, ROOT)
module = sys.modules.get("escalation")
if module is not None and getattr(module, "__file__", None) is None:  # a namespace package: this folder
    del sys.modules["escalation"]
