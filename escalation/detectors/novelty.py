"""Novelty: the ticket's problem is far from every issue the agent knows, across languages."""

from ..config import NoveltyConfig
from ..known_issues import KnownIssueIndex
from ..models import DetectorResult, Reason, Ticket, Trigger


def detect_novelty(ticket: Ticket, index: KnownIssueIndex, config: NoveltyConfig) -> DetectorResult:
    """Compares the customer's opening words (where the problem is stated) with the known issues."""
    neighbour = index.nearest(ticket.opening())
    if neighbour is None:  # no topic words (a bare "hello?") or no known issues: nothing to judge
        return DetectorResult(trigger=Trigger.NOVEL, score=0.0, fired=False)
    similarity = neighbour.similarity
    fired = similarity < config.threshold
    near = not fired and similarity < config.offer_threshold
    reasons: tuple[Reason, ...] = ()
    if fired or near:
        limit = config.threshold if fired else config.offer_threshold
        closest = (
            f"the closest known issue ({neighbour.issue_id}) " if neighbour.issue_id else "no known issue "
        )
        reasons = (
            Reason(
                code="novel",
                trigger=Trigger.NOVEL,
                text=f"{closest}is at similarity {similarity:.2f}, under {limit:.2f}",
                evidence=neighbour.text[:80],
            ),
        )
    return DetectorResult(
        trigger=Trigger.NOVEL, score=1.0 - similarity, fired=fired, near=near, reasons=reasons
    )
