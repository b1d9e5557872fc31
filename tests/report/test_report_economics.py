"""Economics: gas in dollars at the stated prices, cost per resolution and a year against a team."""

import math

import pytest
from hypothesis import given, settings

from escalation.report import Assumptions, Money, OperationReport, ReasonCounts, RunParams, TicketCounts
from escalation.report.assumptions import GAS_GWEI, POL_USD, PRICES_AS_OF
from escalation.report.economics import economics, gas_usd
from escalation.report.model import USDC
from tests.report.strategies import reports


def _report(**over) -> OperationReport:
    fields = dict(
        params=RunParams(tickets=100, seed=1, speed=60),
        tickets=TicketCounts(total=100, handled_by_ai=96, escalated=4, matched=4, resolved=4, refunded=0),
        reasons=ReasonCounts(low_confidence=4),
        money=Money(rewards_paid=60 * USDC, oracle_fees=2 * USDC, protocol_fees=600_000),
        gas={"per_paid_ticket": [300_000] * 4, "per_step": {"post": [100_000, 120_000]}},
    )
    fields.update(over)
    return OperationReport.model_validate(fields)


def test_defaults_are_the_stated_prices_and_the_business_case():
    a = Assumptions()
    assert (a.pol_usd, a.gas_gwei, a.prices_as_of) == (POL_USD, GAS_GWEI, PRICES_AS_OF)
    assert "2026-11" in PRICES_AS_OF
    assert (a.tickets_per_day, a.escalated_share, a.price_per_resolution_usd) == (10_000, 0.05, 15.0)
    assert (a.team_agents_low, a.team_agents_high, a.salary_usd_low, a.salary_usd_high) == (
        50,
        100,
        45_000,
        65_000,
    )


def test_gas_in_dollars_at_the_assumed_prices():
    # 300,000 gas x 30 gwei = 0.009 POL; at $0.20 that is $0.0018
    assert gas_usd(300_000, Assumptions(gas_gwei=30, pol_usd=0.20)) == pytest.approx(0.0018)
    assert gas_usd(300_000, Assumptions(gas_gwei=60, pol_usd=0.50)) == pytest.approx(0.009)
    with pytest.raises(ValueError, match="negative"):
        gas_usd(-1, Assumptions())


def test_cost_per_resolution_and_per_year_from_the_business_case():
    e = economics(_report())
    assert e.paid_ticket_gas_mean == 300_000 and e.paid_ticket_usd_mean == pytest.approx(0.0018)
    assert [(s.step, s.transactions, s.mean_gas) for s in e.steps] == [("post", 2, 110_000)]
    # this run: (60 + 2 + 0.6) USDC over 4 resolutions, plus gas
    assert e.measured_cost_per_resolution_usd == pytest.approx(62.6 / 4 + 0.0018)
    # the case: $15 reward + 1 % protocol fee + 0.50 oracle fee + gas
    assert e.protocol_fee_share == pytest.approx(0.01)
    assert e.case_cost_per_resolution_usd == pytest.approx(15.15 + 0.5 + 0.0018)
    assert e.escalations_per_year == 182_500
    assert e.protocol_per_year_usd == pytest.approx(182_500 * (15.65 + 0.0018))
    assert (e.team_per_year_low_usd, e.team_per_year_high_usd) == (2_250_000, 6_500_000)
    assert e.team_per_ticket_low_usd == pytest.approx(2_250_000 / 3_650_000)
    assert any("50-100 full-time agents at $45,000-$65,000" in line for line in e.assumptions)
    assert any("30 gwei, POL at $0.20" in line and "2026-11" in line for line in e.assumptions)


def test_no_resolutions_no_division_by_zero():
    report = _report(
        tickets=TicketCounts(total=100, handled_by_ai=96, escalated=4, matched=0, resolved=0, refunded=4),
        money=Money(refunds=60 * USDC), gas={},
    )  # fmt: skip
    e = economics(report)
    assert e.measured_cost_per_resolution_usd is None and e.paid_ticket_gas_mean is None
    assert e.case_cost_per_resolution_usd == 15.0


def test_ranges_given_backwards_are_refused():
    with pytest.raises(ValueError, match="give the low end first"):
        Assumptions(team_agents_low=100, team_agents_high=50)


@settings(deadline=None, max_examples=80)
@given(reports())
def test_no_negative_or_infinite_money_and_the_year_is_the_product(report):
    e = economics(report)
    figures = [v for v in e.model_dump().values() if isinstance(v, float)]
    assert all(math.isfinite(v) and v >= 0 for v in figures)
    assert e.protocol_per_year_usd == pytest.approx(e.escalations_per_year * e.case_cost_per_resolution_usd)
    assert e.team_per_year_low_usd <= e.team_per_year_high_usd
    assert e.case_cost_per_resolution_usd >= report.assumptions.price_per_resolution_usd
    assert sum(units for _, units in report.money.flows()) == sum(report.money.model_dump().values())
