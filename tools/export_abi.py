"""Writes the ABIs the off-chain daemons need into protocol_core/abi/ (run after `ape compile`)."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPORTED = ("JobEscrow", "VerificationOracle", "WorkerRegistry", "ArbitrationPool", "TestUSDC")


def main() -> int:
    build = json.loads((ROOT / ".build" / "__local__.json").read_text())["contractTypes"]
    for name in EXPORTED:
        target = ROOT / "protocol_core" / "abi" / f"{name}.json"
        target.write_text(json.dumps(build[name]["abi"], indent=1, sort_keys=True) + "\n")
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
