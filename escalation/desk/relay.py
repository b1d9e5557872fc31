"""The seam for relaying a worker's signed acceptance (issue 10), with today's on-chain fallback.

Issue 10 lets a worker accept by an EIP-712 signature that anyone relays; its escrow function and
message are being built on another branch. Until they land, `relay_acceptance` refuses with a clear
message and the worker accepts on chain itself (`JobEscrow.acceptJob`), which the desk follows like
any other acceptance. When they land, `AcceptanceRelayer` is the one class to fill in: build the
relayed call from the terms and the signature, dry-run it, and send it with the desk's sender.
"""

from dataclasses import dataclass

from .errors import DeskError


class RelayUnavailable(DeskError):
    """This deployment has no relayed acceptance yet; the worker accepts on chain."""


@dataclass(frozen=True)
class SignedAcceptance:
    """A worker's acceptance of a job as a signature (issue 10's message)."""

    job_id: str  # 0x + 64 hex
    worker: str  # checksummed address
    deadline: int  # unix seconds the signature is valid until
    signature: str  # 0x + 130 hex


class AcceptanceRelayer:
    """Sends a worker's signed acceptance on its behalf, paying the gas (not available yet)."""

    def relay_acceptance(self, acceptance: SignedAcceptance) -> str:
        """The hash of the relaying transaction; RelayUnavailable until the escrow supports it."""
        raise RelayUnavailable(
            f"cannot relay {acceptance.worker}'s acceptance of {acceptance.job_id}: this escrow has no "
            "relayed acceptance yet (issue 10); the worker accepts on chain with `ape run ops job accept`"
        )
