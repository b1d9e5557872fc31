"""The ticket stream of a simulated support operation, drawn from the labelled corpus.

Most tickets are ordinary traffic the AI answers; about 5 % need a human for a reason that never goes
away (anger, a compliance or legal trigger, low confidence); and a release brings new problems the
agent has never seen, a few on the first day and more later, each sending a few tickets a day in any
of the corpus's languages until people have resolved it often enough for the agent to learn it.
"""

import random
from dataclasses import dataclass

from escalation.evaluate import LabelledTicket, load_corpus
from escalation.models import Message, Ticket

DAY = 86_400
START = 1_767_571_200  # Monday 2026-01-05 00:00 UTC: simulated weeks are whole ISO weeks
NEEDS_HUMAN_SHARE = 0.05  # of ordinary traffic: the business case's share that needs a person
LOOKALIKE_SHARE = 0.15  # of the tickets that need no human: polite long ones, capitals, small refunds
FIRST_DAY_PROBLEMS = 8  # new problems a release brings on day 0; one more every PROBLEM_EVERY days
PROBLEM_EVERY = 5
TICKETS_PER_PROBLEM_DAY = 2  # tickets a live new problem sends each day


@dataclass(frozen=True)
class StreamTicket:
    """One ticket of the stream: when it arrives, and what the corpus says it is."""

    day: int
    ticket: Ticket
    kind: str  # the corpus kind (routine, hard_negative, novel, angry, data_request, ...)
    family: str  # the new problem it belongs to, for novel tickets


def ticket_stream(total: int, days: int, seed: int) -> list[list[StreamTicket]]:
    """`total` tickets spread over `days` days (a list per day), reproducible from `seed`."""
    if days < 1 or total < days:
        raise ValueError(f"need at least one ticket a day: {total} tickets over {days} days")
    rng = random.Random(seed)
    corpus = load_corpus()
    routine = [r for r in corpus if not r.should_escalate and r.kind != "hard_negative"]
    lookalike = [r for r in corpus if not r.should_escalate and r.kind == "hard_negative"]
    needs_human = [r for r in corpus if r.should_escalate and r.kind != "novel"]
    problems: dict[str, list[LabelledTicket]] = {}
    for row in corpus:
        if row.kind == "novel" and not row.labels["compliance_legal"]:
            problems.setdefault(row.family, []).append(row)
    families = sorted(problems)
    rng.shuffle(families)
    stream: list[list[StreamTicket]] = []
    for day in range(days):
        count = total // days + (day < total % days)
        live = families[: FIRST_DAY_PROBLEMS + day // PROBLEM_EVERY]
        rows = [
            rng.choice(problems[rng.choice(live)])
            for _ in range(min(count, TICKETS_PER_PROBLEM_DAY * len(live)))
        ]
        while len(rows) < count:
            if rng.random() < NEEDS_HUMAN_SHARE:
                rows.append(rng.choice(needs_human))
            else:
                rows.append(rng.choice(lookalike if rng.random() < LOOKALIKE_SHARE else routine))
        rng.shuffle(rows)
        stream.append([_arriving(row, day, n, count) for n, row in enumerate(rows)])
    return stream


def _arriving(row: LabelledTicket, day: int, n: int, count: int) -> StreamTicket:
    """The corpus ticket as it arrives: its own id and its messages a minute apart from its arrival."""
    ts = START + day * DAY + n * (DAY // count)
    messages = tuple(
        Message(role=m.role, text=m.text, ts=ts + 60 * i) for i, m in enumerate(row.ticket.messages)
    )
    ticket = row.ticket.model_copy(update={"id": f"T-{day + 1:02d}-{n + 1:04d}", "messages": messages})
    return StreamTicket(day, ticket, row.kind, row.family)
