"""One line for every refusal: the pool's custom errors (named by a dry run) in the arbitrator's terms."""

MESSAGES = {
    "NotOnPanel": "not drawn in dispute {dispute} (or you already did this in this round)",
    "WrongPhase": "phase over: dispute {dispute} is not in the phase for this (see `arbitrator cases`)",
    "CommitmentMismatch": (
        "wrong salt or choice: the reveal does not match your commitment; leave out --salt and --choice "
        "to reveal the vote stored when you gave it"
    ),
    "InvalidChoice": "choice must be 0 (refuse to rule), 1 (pay the worker) or 2 (refund the agent)",
    "NothingToWithdraw": "nothing to withdraw yet: unstaked tokens unlock after the delay (see `status`)",
    "StakeLockedInDispute": "unstake refused: part of your stake is locked by disputes you are drawn in",
    "UnstakePending": "unstake refused: an earlier unstake is still pending; withdraw it first",
    "StakeOutOfBounds": "stake refused: it would leave you outside the pool's minimum and maximum stake",
    "ERC20InsufficientBalance": "not enough tokens in your wallet for this stake",
    "ERC20InsufficientAllowance": "the pool may not take that many of your tokens: approve them first",
}


def refusal(error: str, dispute: int | str = "") -> str:
    """The line for a dry run's refusal `error` (a custom error's name, or the RPC's message)."""
    template = MESSAGES.get(error)
    return template.format(dispute=dispute) if template else f"the pool refuses: {error}"
