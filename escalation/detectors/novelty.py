"""Novelty: the ticket's problem is far from every issue the agent knows, across languages."""

import math

from ..config import NoveltyConfig
from ..known_issues import KnownIssueIndex, Neighbour
from ..models import DetectorResult, Reason, Ticket, Trigger


def novelty_probability(neighbour: Neighbour, config: NoveltyConfig) -> float:
    """How likely the ticket states a problem no known issue covers: a logistic model of three signals."""
    w = config.weights
    z = (
        w.bias
        + w.similarity * neighbour.similarity
        + w.unexplained_marker * neighbour.unexplained_marker
        + w.unexplained_concepts * min(neighbour.unexplained_concepts, config.max_unexplained_concepts)
    )
    return 1.0 / (1.0 + math.exp(-z))


def _explain(neighbour: Neighbour) -> str:
    closest = f"the closest known issue ({neighbour.issue_id})" if neighbour.issue_id else "no known issue"
    parts = [f"{closest} is at similarity {neighbour.similarity:.2f}"]
    if neighbour.unexplained_marker:
        parts.append("it does not explain the unexpected behaviour the customer reports")
    if neighbour.unexplained_concepts:
        parts.append(f"{neighbour.unexplained_concepts} of the ticket's topics are not in it")
    return "; ".join(parts)


def detect_novelty(ticket: Ticket, index: KnownIssueIndex, config: NoveltyConfig) -> DetectorResult:
    """Compares the customer's opening words (where the problem is stated) with the known issues."""
    neighbour = index.nearest(ticket.opening())
    if neighbour is None:  # no topic words (a bare "hello?") or no known issues: nothing to judge
        return DetectorResult(trigger=Trigger.NOVEL, score=0.0, fired=False)
    probability = novelty_probability(neighbour, config)
    fired = probability >= config.threshold
    near = not fired and probability >= config.offer_threshold
    reasons: tuple[Reason, ...] = ()
    if fired or near:
        limit = config.threshold if fired else config.offer_threshold
        reasons = (
            Reason(
                code="novel",
                trigger=Trigger.NOVEL,
                text=f"{_explain(neighbour)}: novelty {probability:.2f}, at or over {limit:.2f}",
                evidence=neighbour.text[:80],
            ),
        )
    return DetectorResult(trigger=Trigger.NOVEL, score=probability, fired=fired, near=near, reasons=reasons)
