"""The report's record refuses counts that cannot be, and says what to fix."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from escalation.models import Trigger
from escalation.report import (
    Money,
    OperationReport,
    ReasonCounts,
    Ruling,
    RunParams,
    TicketCounts,
    TicketTiming,
)
from escalation.report.figures import percentile, timing_summary
from escalation.report.sample import sample_report
from protocol_core.enums import RulingOption
from tests.report.strategies import timings

PARAMS = RunParams(tickets=10, seed=1, speed=60)
COUNTS = TicketCounts(total=10, handled_by_ai=8, escalated=2, matched=2, resolved=1, refunded=1)


def test_counts_that_do_not_add_up_are_refused_with_the_numbers():
    with pytest.raises(
        ValidationError, match=r"handled_by_ai \(8\) \+ escalated \(3\) must equal total \(10\)"
    ):
        TicketCounts(total=10, handled_by_ai=8, escalated=3, matched=0, resolved=0, refunded=0)
    with pytest.raises(ValidationError, match=r"resolved \(2\) <= matched \(1\)"):
        TicketCounts(total=10, handled_by_ai=8, escalated=2, matched=1, resolved=2, refunded=0)
    with pytest.raises(ValidationError, match="paid or refunded, not both"):
        TicketCounts(total=10, handled_by_ai=8, escalated=2, matched=2, resolved=2, refunded=1)


def test_reasons_must_cover_every_escalated_ticket_and_no_more():
    with pytest.raises(ValidationError, match=r"count more tickets than were escalated \(2\)"):
        OperationReport(params=PARAMS, tickets=COUNTS, reasons=ReasonCounts(novel=3))
    with pytest.raises(ValidationError, match="at least one reason"):
        OperationReport(params=PARAMS, tickets=COUNTS, reasons=ReasonCounts(novel=1))
    both = ReasonCounts.tally([{Trigger.NOVEL, Trigger.FRUSTRATION}, [Trigger.NOVEL, Trigger.NOVEL]])
    assert both == ReasonCounts(novel=2, frustration=1)
    assert OperationReport(params=PARAMS, tickets=COUNTS, reasons=both).reasons.novel == 2


def test_money_and_gas_refuse_what_cannot_be():
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        Money(refunds=-1)
    with pytest.raises(ValidationError, match="gas for 2 paid tickets but only 1 were resolved"):
        OperationReport(params=PARAMS, tickets=COUNTS, reasons=ReasonCounts(novel=2),
                        gas={"per_paid_ticket": [300_000, 300_000]})  # fmt: skip
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Money(reward_paid=1)  # a misspelt field is refused, never dropped


def test_skipped_time_needs_a_reason_and_fits_inside_the_duration():
    with pytest.raises(ValidationError, match="say why simulated time was skipped"):
        TicketTiming(ticket="T-1", to_acceptance_s=5, to_payment_s=700, skipped_to_payment_s=600)
    with pytest.raises(ValidationError, match="exceeds the time to payment"):
        TicketTiming(ticket="T-1", to_acceptance_s=5, to_payment_s=70, skipped_to_payment_s=600,
                     skipped_for="challenge window")  # fmt: skip
    with pytest.raises(ValidationError, match=r"paid .* before accepted"):
        TicketTiming(ticket="T-1", to_acceptance_s=50, to_payment_s=40)


def test_rulings_come_from_the_on_chain_options():
    assert [Ruling.of(o) for o in RulingOption] == [Ruling.SPLIT, Ruling.PAY_WORKER, Ruling.REFUND_AGENT]
    assert Ruling.of(2) is Ruling.REFUND_AGENT


def test_timing_summary_says_which_tickets_include_skipped_time():
    ticks = [
        TicketTiming(ticket="a", to_acceptance_s=10, to_payment_s=100),
        TicketTiming(ticket="b", to_acceptance_s=20, to_payment_s=200),
        TicketTiming(ticket="c", to_acceptance_s=30, to_payment_s=3_900, skipped_to_payment_s=3_600,
                     skipped_for="challenge window"),
        TicketTiming(ticket="d", to_acceptance_s=40),
        TicketTiming(ticket="e"),
    ]  # fmt: skip
    pay = timing_summary(ticks, "payment")
    assert (pay.all.count, pay.all.p50_s, pay.not_skipped.count, pay.not_skipped.p50_s) == (3, 200, 2, 150)
    assert (pay.with_skipped, pay.skipped_s, pay.skipped_for) == (1, 3_600, ["challenge window"])
    accept = timing_summary(ticks, "acceptance")
    assert (accept.all.count, accept.all.p50_s, accept.with_skipped) == (4, 25, 0)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.floats(0, 1e9), min_size=1, max_size=50), st.floats(0, 100), st.floats(0, 100))
def test_percentile_lies_within_the_values_and_grows_with_q(values, q1, q2):
    low, high = sorted((q1, q2))
    assert min(values) <= percentile(values, low) <= percentile(values, high) <= max(values)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.integers(0, 20).flatmap(lambda i: timings(f"T-{i}")), max_size=30))
def test_every_ticket_that_got_there_is_counted_once(ticks):
    pay = timing_summary(ticks, "payment")
    assert pay.all.count == pay.not_skipped.count + pay.with_skipped
    assert pay.all.count == sum(t.to_payment_s is not None for t in ticks)
    assert pay.skipped_s >= 0


def test_sample_is_a_valid_report_that_adds_up():
    report = sample_report()
    t = report.tickets
    assert t.total == report.params.tickets == sum(p.tickets for p in report.autonomy)
    assert t.escalated == sum(round(p.tickets * (1 - p.rate)) for p in report.autonomy)
    assert len(report.gas.per_paid_ticket) == t.resolved
    assert report.money.protocol_fees == report.money.rewards_paid // 100
