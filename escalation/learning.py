"""The learning loop: verified resolutions become JSONL training data and, once repeated, known issues."""

from collections import Counter
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .config import NoveltyConfig
from .known_issues import KnownIssueIndex
from .models import Ticket, Trigger
from .redact import redact
from .text import ConceptLexicon

TRAINING_SCHEMA = "escalation.training/1"


class Resolution(BaseModel):
    """A human resolution as the desk hands it back: the ticket, the worker's summary and the verdict."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticket: Ticket
    triggers: tuple[Trigger, ...]  # why the ticket was escalated
    summary: str  # the worker's resolution summary; empty when the desk did not hold the worker's bundle
    verdict: Literal["approved", "rejected"]  # the oracle quorum's verdict
    resolved_at: int = Field(ge=0)  # unix seconds


def training_record(resolution: Resolution) -> dict[str, Any]:
    """One JSONL training line, personal data redacted (documented in docs/escalation.md)."""
    redactions: Counter[str] = Counter()
    conversation = []
    for message in resolution.ticket.messages:
        text, report = redact(message.text)
        redactions.update(report.counts)
        conversation.append({"role": message.role, "text": text, "ts": message.ts})
    summary, report = redact(resolution.summary)
    redactions.update(report.counts)
    return {
        "schema": TRAINING_SCHEMA,
        "ticket_id": resolution.ticket.id,
        "language": resolution.ticket.language,
        "triggers": [t.value for t in resolution.triggers],
        "conversation": conversation,
        "resolution": summary,
        "verdict": resolution.verdict,
        "resolved_at": resolution.resolved_at,
        "redactions": dict(redactions),
    }


class LearningLoop:
    """Groups approved resolutions of novel tickets; a group of `promote_after` becomes a known issue."""

    def __init__(self, known: KnownIssueIndex, lexicon: ConceptLexicon, config: NoveltyConfig) -> None:
        self._known = known
        self._lexicon = lexicon
        self._config = config
        self._groups: list[list[str]] = []
        self.promoted = 0
        self.learned: list[tuple[str, str]] = []  # (id, text) of every known issue the loop added

    def learn(self, resolution: Resolution) -> bool:
        """Takes one resolution; True when it completed a group that is now a known issue."""
        if resolution.verdict != "approved" or Trigger.NOVEL not in resolution.triggers:
            return False
        text = resolution.ticket.opening()
        pending = KnownIssueIndex(self._lexicon, self._config.unknown_weight)
        pending.add((str(i), " ".join(group)) for i, group in enumerate(self._groups))
        nearest = pending.nearest(text)
        if nearest is not None and nearest.issue_id and nearest.similarity >= self._config.cluster_similarity:
            group = self._groups[int(nearest.issue_id)]
            group.append(text)
        else:
            group = [text]
            self._groups.append(group)
        if len(group) < self._config.promote_after:
            return False
        self._groups.remove(group)
        self.promoted += 1
        texts = [*group, resolution.summary] if resolution.summary.strip() else group
        issues = [(f"learned-{self.promoted}-{i}", t) for i, t in enumerate(texts)]
        self.learned += issues
        self._known.add(issues)
        return True


class AutonomyTracker:
    """The autonomous-resolution rate (tickets not escalated / tickets) per day and per ISO week."""

    def __init__(self) -> None:
        self._days: dict[str, list[int]] = {}
        self._weeks: dict[str, list[int]] = {}

    def record(self, ts: int, escalated: bool) -> None:
        """Counts one decided ticket at unix time `ts`."""
        when = datetime.fromtimestamp(ts, UTC)
        year, week, _ = when.isocalendar()
        for table, key in ((self._days, when.date().isoformat()), (self._weeks, f"{year}-W{week:02d}")):
            totals = table.setdefault(key, [0, 0])
            totals[0] += 1
            totals[1] += 0 if escalated else 1

    @staticmethod
    def _series(table: dict[str, list[int]]) -> list[dict[str, Any]]:
        return [
            {"period": k, "tickets": n, "autonomous_rate": round(auto / n, 4)}
            for k, (n, auto) in sorted(table.items())
        ]

    def per_day(self) -> list[dict[str, Any]]:
        """One entry per UTC day."""
        return self._series(self._days)

    def per_week(self) -> list[dict[str, Any]]:
        """One entry per ISO week."""
        return self._series(self._weeks)
