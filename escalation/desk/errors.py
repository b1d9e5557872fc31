"""Errors of the desk; each message says what was wrong and what to do."""

from escalation.errors import EscalationError


class DeskError(EscalationError):
    """Base class of the desk's errors."""


class UnknownJob(DeskError):
    """No job of this desk has the id or ticket given."""


class PolicyRefusal(DeskError):
    """The company's spend policy refuses the escalation; nothing was posted."""


class InsufficientFunds(DeskError):
    """The agent's USDC balance (or allowance) cannot pay for the call; nothing was sent."""


class WouldRevert(DeskError):
    """The chain would refuse the call (its dry run reverts); nothing was sent."""


class NotAllowedNow(DeskError):
    """The job is not in a state that allows the call (cancel an accepted job, dispute an open one)."""


class BadWebhook(DeskError):
    """A helpdesk webhook call is not signed with the shared secret, or its body is not valid."""


class InvalidRequest(DeskError):
    """The desk refused the request's shape (a missing field, a value out of range); fix it and resend."""


class BadProof(DeskError):
    """A worker's signed request is missing, stale or not signed by the address it names; sign a fresh one."""


class NotYourJob(DeskError):
    """The signer is not the job's worker: only the worker who accepted a job reads its handoff."""


class StoreUnavailable(DeskError):
    """The desk's content store cannot be reached now; nothing was lost, try again later."""
