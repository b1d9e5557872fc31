"""Compliance and legal: large refunds, data-protection requests, discrimination, litigation language."""

import re

from ..config import ComplianceConfig
from ..models import DetectorResult, Reason, Ticket, Trigger
from ..text import fold, one_scan

_WHAT = {
    "data_request": "a personal-data access, deletion or portability request (GDPR, CCPA and kin)",
    "discrimination": "a discrimination or harassment complaint",
    "litigation": "litigation or regulator language",
}


class ComplianceDetector:
    """Matches the configured patterns in every supported language over all customer messages."""

    def __init__(self, config: ComplianceConfig) -> None:
        self._config = config
        # one alternation per group: a single scan of the conversation instead of one per pattern
        self._patterns = {
            group: one_scan(patterns) for group, patterns in config.patterns.items() if patterns
        }
        self._ignore = re.compile("|".join(f"(?:{p})" for p in config.ignore)) if config.ignore else None

    def detect(self, ticket: Ticket) -> DetectorResult:
        """Fires on any match or on a refund above the configured amount."""
        text = fold("\n".join(ticket.customer_texts()))
        if self._ignore:
            text = self._ignore.sub(" ", text)
        reasons: list[Reason] = []
        for group, pattern in self._patterns.items():
            if match := pattern.search(text):
                reasons.append(
                    Reason(
                        code=f"compliance.{group}",
                        trigger=Trigger.COMPLIANCE_LEGAL,
                        text=f"the customer makes {_WHAT.get(group, group)}",
                        evidence=match.group(0)[:80],
                    )
                )
        limit = self._config.refund_threshold_usd
        if ticket.refund_amount is not None and ticket.refund_amount > limit:
            reasons.append(
                Reason(
                    code="compliance.refund_over_limit",
                    trigger=Trigger.COMPLIANCE_LEGAL,
                    text=f"a refund of {ticket.refund_amount:.2f} USD is above the limit of {limit:.2f} USD",
                    evidence=f"{ticket.refund_amount:.2f}",
                )
            )
        return DetectorResult(
            trigger=Trigger.COMPLIANCE_LEGAL,
            score=1.0 if reasons else 0.0,
            fired=bool(reasons),
            reasons=tuple(reasons),
        )
