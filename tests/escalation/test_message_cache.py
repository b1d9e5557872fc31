"""Per-message caches (folded text, tokens, frustration signals) make a conversation that is decided
again at each new message cost only its new message; they must never change a decision."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.config import build_config
from escalation.engine import EscalationEngine
from escalation.evaluate import load_corpus, load_known_issue_rows
from escalation.models import Ticket

ROWS = [row for row in load_corpus() if len(row.ticket.messages) >= 3]
KNOWN = load_known_issue_rows()
WARM = EscalationEngine(build_config(), KNOWN)


def prefixes(ticket: Ticket) -> list[Ticket]:
    """The conversation as the agent saw it grow: every prefix that holds a customer message."""
    grown = []
    for end in range(1, len(ticket.messages) + 1):
        messages = ticket.messages[:end]
        if any(m.role == "customer" for m in messages):
            grown.append(ticket.model_copy(update={"messages": messages}))
    return grown


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(ROWS), min_size=1, max_size=4))
def test_deciding_as_a_conversation_grows_gives_what_a_cold_engine_gives(rows: list) -> None:
    for row in rows:
        for ticket in prefixes(row.ticket):
            warm = WARM.decide(ticket)
            cold_engine = EscalationEngine(build_config(), KNOWN)
            cold_engine.forget_messages()
            assert warm == cold_engine.decide(ticket)


def test_a_cached_message_signal_cannot_be_changed_by_its_reader() -> None:
    ticket = next(row.ticket for row in ROWS if row.labels["frustration"])
    WARM.decide(ticket)
    signals = WARM._frustration._message(ticket.customer_texts()[-1], ticket.language)  # the cache under test
    with pytest.raises(TypeError):
        signals.evidence["negative"] = "1.00"  # type: ignore[index]
    assert WARM.decide(ticket) == EscalationEngine(build_config(), KNOWN).decide(ticket)
