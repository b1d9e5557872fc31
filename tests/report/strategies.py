"""hypothesis strategies for valid reports, shared by the report's property tests."""

from hypothesis import strategies as st

from escalation.report import (
    Assumptions,
    Gas,
    Money,
    OperationReport,
    PeriodRate,
    ReasonCounts,
    RunParams,
    TicketCounts,
    TicketTiming,
)

money_units = st.integers(min_value=0, max_value=10**15)  # up to a billion USDC
texts = st.text(min_size=1, max_size=60).filter(lambda s: s.strip() != "")


@st.composite
def timings(draw, ticket: str) -> TicketTiming:
    accept = draw(st.none() | st.floats(0, 10**6))
    pay = None if accept is None else draw(st.none() | st.floats(accept, accept + 10**6))
    skipped = 0.0 if pay is None else draw(st.floats(0, pay - accept))
    return TicketTiming(ticket=ticket, to_acceptance_s=accept, to_payment_s=pay, skipped_to_payment_s=skipped,
                        skipped_for="challenge window" if skipped else "")  # fmt: skip


@st.composite
def reports(draw) -> OperationReport:
    total = draw(st.integers(1, 100_000))
    escalated = draw(st.integers(0, min(total, 40)))
    matched = draw(st.integers(0, escalated))
    resolved = draw(st.integers(0, matched))
    refunded = draw(st.integers(0, escalated - resolved))
    others = [draw(st.integers(0, escalated)) for _ in range(3)]
    low = draw(st.integers(max(0, escalated - sum(others)), escalated))
    gas = draw(st.lists(st.integers(21_000, 5_000_000), max_size=resolved))
    steps = draw(st.dictionaries(texts, st.lists(st.integers(21_000, 2_000_000), max_size=5), max_size=4))
    return OperationReport(
        params=RunParams(tickets=total, seed=draw(st.integers()), speed=draw(st.floats(0.01, 1e6))),
        tickets=TicketCounts(total=total, handled_by_ai=total - escalated, escalated=escalated,
                             matched=matched, resolved=resolved, refunded=refunded),
        reasons=ReasonCounts(low_confidence=low, frustration=others[0], compliance_legal=others[1],
                             novel=others[2]),
        timings=[draw(timings(f"T-{i}")) for i in range(draw(st.integers(0, escalated)))],
        money=Money(**{name: draw(money_units) for name in Money.model_fields}),
        gas=Gas(per_paid_ticket=gas, per_step=steps),
        autonomy=draw(st.lists(st.builds(PeriodRate, period=texts, tickets=st.integers(0, 10**6),
                                         rate=st.floats(0, 1)), max_size=12)),
        assumptions=Assumptions(pol_usd=draw(st.floats(0.001, 100)), gas_gwei=draw(st.floats(0.001, 5_000))),
        notes=draw(st.lists(texts, max_size=2)),
    )  # fmt: skip
