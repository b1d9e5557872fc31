"""Why a contract refused a call: revert data decoded with the shipped ABIs and said in one line."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, is_hex_address, keccak, to_checksum_address

from protocol_core.abi import abi
from protocol_core.enums import Ineligibility, JobStatus
from protocol_core.validation import format_amount

CONTRACTS = ("JobEscrow", "VerificationOracle", "WorkerRegistry", "ArbitrationPool", "TestUSDC")
ERROR_STRING = function_signature_to_4byte_selector("Error(string)")
PANIC = function_signature_to_4byte_selector("Panic(uint256)")
ROLES = {keccak(text="CERTIFIER_ROLE"): "CERTIFIER_ROLE", b"\x00" * 32: "DEFAULT_ADMIN_ROLE (governance)"}
AMOUNTS = {"balance", "needed", "allowance", "requested", "available", "stake", "min", "max", "locked"}


@dataclass(frozen=True)
class Revert:
    """A decoded revert: the error's name and its arguments by name."""

    name: str
    args: Mapping[str, Any]


def _type(entry: Mapping[str, Any]) -> str:
    if entry["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in entry["components"]) + ")" + entry["type"][5:]
    return str(entry["type"])


@cache
def _errors() -> dict[bytes, dict[str, Any]]:
    table: dict[bytes, dict[str, Any]] = {}
    for contract in CONTRACTS:
        for entry in abi(contract):
            if entry["type"] == "error":
                signature = f"{entry['name']}({','.join(_type(i) for i in entry['inputs'])})"
                table.setdefault(function_signature_to_4byte_selector(signature), entry)
    return table


def decode_revert(data: bytes) -> Revert | None:
    """The error in revert `data`, or None when no contract of the protocol defines it."""
    selector, body = bytes(data[:4]), bytes(data[4:])
    try:
        if selector == ERROR_STRING:
            return Revert("Error", {"reason": decode(["string"], body)[0]})
        if selector == PANIC:
            return Revert("Panic", {"code": decode(["uint256"], body)[0]})
        entry = _errors().get(selector)
        if entry is None:
            return None
        values = decode([_type(i) for i in entry["inputs"]], body)
    except Exception:  # eth_abi raises several types for short or bad data
        return None
    return Revert(entry["name"], {i["name"]: v for i, v in zip(entry["inputs"], values, strict=True)})


def _show(name: str, value: Any) -> str:
    if isinstance(value, bytes):
        return ROLES.get(value, "0x" + value.hex())
    if isinstance(value, str) and is_hex_address(value):
        return to_checksum_address(value)
    if name in AMOUNTS and isinstance(value, int):
        return f"{format_amount(value)} USDC"
    if name in ("deadline", "notBefore", "unstakeAt", "unlockAt") and isinstance(value, int):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if name in ("actual", "expected", "status") and isinstance(value, int):
        return JobStatus(value).name.lower()
    return str(value)


Hint = Callable[[Mapping[str, str]], str]
HINTS: dict[str, Hint] = {
    "OwnableUnauthorizedAccount": lambda a: (
        f"{a['account']} is not governance (the contract's owner): sign with --account <governance>"
    ),
    "AccessControlUnauthorizedAccount": lambda a: f"{a['account']} does not hold {a['neededRole']}",
    "OperatorStateUnchanged": lambda a: (
        f"{a['operator']} is already an operator"
        if a["active"] == "True"
        else f"{a['operator']} is not an operator"
    ),
    "OperatorSetFull": lambda a: f"the operator set is full ({a['max']} operators were ever added)",
    "InvalidQuorum": lambda a: f"a quorum of {a['quorum']} is not allowed: at least 1",
    "StakeLocked": lambda a: (
        f"{a['operator']} asked for {a['requested']} but {a['available']} is free to unstake or withdraw "
        f"(unstaking ends {a['unstakeAt']})"
    ),
    "StakeHeldByDisputes": lambda a: (
        f"{a['operator']} attested {a['disputedVerdicts']} verdict(s) still under dispute: its stake stays "
        "slashable until they settle (`ape run ops job settle JOB`, by anyone, after the ruling or the "
        "escrow's 30-day dispute timeout); withdraw then"
    ),
    "NotActiveOperator": lambda a: f"{a['account']} is not an active operator with the minimum stake",
    "ERC20InsufficientBalance": lambda a: (
        f"{a['sender']} holds {a['balance']} but needs {a['needed']}: fund it first"
    ),
    "ERC20InsufficientAllowance": lambda a: f"allowance {a['allowance']} is below {a['needed']}",
    "FeeAboveCap": lambda a: f"{a['fee']} is above the cap of {a['cap']} fixed in the contract",
    "StakeOutOfBounds": lambda a: (
        f"a stake of {a['stake']} would leave {a['arbitrator']} outside {a['min']}..{a['max']}"
    ),
    "StakeLockedInDispute": lambda a: f"{a['arbitrator']} is drawn in a live dispute ({a['locked']} locked)",
    "NothingToWithdraw": lambda a: f"{a['account']} has nothing to withdraw now",
    "JobNotInStatus": lambda a: f"job {a['jobId']} is {a['actual']}, not {a['expected']}",
    "WorkerNotEligible": lambda a: (
        f"{a['worker']} may not take this job: "
        f"{Ineligibility(int(a['reason'])).name.lower().replace('_', ' ')}"
    ),
    "WorkerNotRegistered": lambda a: f"{a['worker']} is not registered as a worker",
    "InvalidProfile": lambda a: "a profile needs at least one language, a capacity and an encryption key",
    "DeadlinePassed": lambda a: f"job {a['jobId']}: its deadline passed at {a['deadline']}",
    "Unauthorized": lambda a: f"{a['caller']} may not do this to job {a['jobId']}",
    "JobExists": lambda a: f"job {a['jobId']} was posted already",
    "PostingPaused": lambda a: "governance has paused new jobs",
    "InvalidTerms": lambda a: f"the terms are invalid: {a['field']}",
    "FeeMismatch": lambda a: "the fees changed since they were quoted; post again",
    "NothingToSettle": lambda a: (
        f"job {a['jobId']} is {a['status']}: nothing to settle before {a['notBefore']}"
    ),
    "EmptyEvidence": lambda a: "evidence needs a hash and a URI",
    "Blacklisted": lambda a: f"the token refuses {a['account']} (blacklisted)",
    "Error": lambda a: a["reason"],
    "Panic": lambda a: f"the contract panicked (code {a['code']})",
}


def explain(revert: Revert | None) -> str:
    """One line on why the call was refused."""
    if revert is None:
        return "the contract reverted without a reason the protocol's ABIs know"
    shown = {name: _show(name, value) for name, value in revert.args.items()}
    hint = HINTS.get(revert.name)
    detail = ", ".join(f"{k}={v}" for k, v in shown.items())
    return hint(shown) if hint else f"{revert.name}({detail})"
