"""Precision and recall of the engine's triggers against a labelled corpus."""

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .models import Decision, Ticket, Trigger


@dataclass(frozen=True)
class LabelledTicket:
    """A corpus row: the ticket, its split and kind, and the truth per trigger."""

    ticket: Ticket
    split: str
    kind: str
    labels: dict[str, bool]
    family: str = ""  # for novel tickets: the new problem, shared across languages

    @property
    def should_escalate(self) -> bool:
        """The truth for the overall decision: any trigger."""
        return any(self.labels.values())


def load_corpus(name: str = "conversations.jsonl") -> list[LabelledTicket]:
    """The shipped labelled corpus (escalation/corpus/)."""
    text = resources.files("escalation").joinpath(f"corpus/{name}").read_text("utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [
        LabelledTicket(Ticket.model_validate(r["ticket"]), r["split"], r["kind"], r["labels"], r["family"])
        for r in rows
    ]


def load_known_issue_rows(name: str = "known_issues.jsonl") -> list[tuple[str, str]]:
    """The shipped knowledge base the corpus was written against."""
    text = resources.files("escalation").joinpath(f"corpus/{name}").read_text("utf-8")
    return [(r["id"], r["text"]) for r in map(json.loads, text.splitlines()) if r]


def _pr(pairs: list[tuple[bool, bool]]) -> dict[str, Any]:
    tp = sum(p and t for p, t in pairs)
    fp = sum(p and not t for p, t in pairs)
    fn = sum(t and not p for p, t in pairs)
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        "support": tp + fn,
        "false_positives": fp,
        "false_negatives": fn,
    }


def score(rows: list[LabelledTicket], decisions: list[Decision]) -> dict[str, Any]:
    """`per_trigger` -> name -> precision/recall, and `overall` for should_escalate."""
    per_trigger = {
        trigger.value: _pr(
            [(trigger in d.triggers, r.labels[trigger.value]) for r, d in zip(rows, decisions, strict=True)]
        )
        for trigger in Trigger
    }
    overall = _pr([(d.should_escalate, r.should_escalate) for r, d in zip(rows, decisions, strict=True)])
    return {"tickets": len(rows), "per_trigger": per_trigger, "overall": overall}


def score_judged(
    judged: list[tuple[frozenset[str], frozenset[str]]], decisions: list[Decision]
) -> dict[str, Any]:
    """Per trigger over the rows that judge it, each row a (triggers judged, triggers expected) pair: a
    set written to judge some triggers says nothing of the others."""
    pairs = list(zip(judged, decisions, strict=True))
    return {
        t.value: _pr(
            [(t in d.triggers, t.value in expected) for (which, expected), d in pairs if t.value in which]
        )
        for t in Trigger
    }


def mistakes(rows: list[LabelledTicket], decisions: list[Decision]) -> list[dict[str, Any]]:
    """Every ticket where a trigger disagrees with its label, for tuning on the dev split."""
    out = []
    for row, decision in zip(rows, decisions, strict=True):
        for trigger in Trigger:
            if (trigger in decision.triggers) != row.labels[trigger.value]:
                out.append(
                    {
                        "id": row.ticket.id,
                        "trigger": trigger.value,
                        "label": row.labels[trigger.value],
                        "score": decision.scores[trigger.value],
                        "customer": row.ticket.customer_texts(),
                    }
                )
    return out
