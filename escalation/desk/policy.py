"""The company's spend policy: a ceiling per ticket, a daily budget, and human approval above a threshold."""

from dataclasses import dataclass
from enum import StrEnum

from .errors import PolicyRefusal

USDC = 10**6


class Verdict(StrEnum):
    """What the policy says about one escalation."""

    POST = "post"
    NEEDS_APPROVAL = "needs_approval"


@dataclass(frozen=True)
class SpendPolicy:
    """Limits in USDC base units (6 decimals)."""

    max_reward: int  # largest reward one ticket may carry
    daily_budget: int  # most the desk may commit (reward + fees) per UTC day
    approval_threshold: int  # a reward above this waits for a person at the company

    def check(self, reward: int, total: int, committed_today: int, approved: bool) -> Verdict:
        """POST or NEEDS_APPROVAL; raises PolicyRefusal with the numbers when the policy refuses."""
        if reward <= 0:
            raise PolicyRefusal("the reward must be positive")
        if reward > self.max_reward:
            raise PolicyRefusal(
                f"a reward of {usdc(reward)} USDC is over the policy's maximum of {usdc(self.max_reward)} "
                "USDC per ticket: lower it, or have the company raise max_reward"
            )
        if committed_today + total > self.daily_budget:
            raise PolicyRefusal(
                f"{usdc(total)} USDC more would bring today's spend to {usdc(committed_today + total)} USDC, "
                f"over the daily budget of {usdc(self.daily_budget)} USDC: wait until tomorrow (UTC) "
                "or have the company raise daily_budget"
            )
        if reward > self.approval_threshold and not approved:
            return Verdict.NEEDS_APPROVAL
        return Verdict.POST


def usdc(amount: int) -> str:
    """Base units as a decimal USDC amount, every digit kept."""
    whole, frac = divmod(amount, USDC)
    return f"{whole}.{frac:06d}".rstrip("0").rstrip(".")
