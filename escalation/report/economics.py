"""What the run's tickets cost in dollars, and a year of them against a full-time team (pure)."""

from collections.abc import Sequence
from statistics import fmean

from pydantic import BaseModel, ConfigDict

from escalation.report.assumptions import Assumptions
from escalation.report.figures import percentile
from escalation.report.model import USDC, OperationReport

DAYS_PER_YEAR = 365


def gas_usd(gas: float, assumptions: Assumptions) -> float:
    """Dollars that `gas` units cost at the assumed gas price (gwei) and POL price."""
    if gas < 0:
        raise ValueError(f"gas {gas} is negative: give the gas a transaction used")
    return gas * assumptions.gas_gwei * 1e-9 * assumptions.pol_usd


class StepCost(BaseModel):
    """One kind of transaction: how often the run sent it and its mean cost."""

    model_config = ConfigDict(frozen=True)
    step: str
    transactions: int
    mean_gas: float
    mean_usd: float


class Economics(BaseModel):
    """The run's costs in dollars and the yearly comparison, every figure from the report's assumptions."""

    model_config = ConfigDict(frozen=True)
    paid_ticket_gas_mean: float | None  # gas of one paid ticket's transactions, mean over the run
    paid_ticket_gas_p95: float | None
    paid_ticket_usd_mean: float | None  # the same in dollars
    steps: list[StepCost]
    measured_cost_per_resolution_usd: float | None  # (rewards + oracle and protocol fees) / resolved + gas
    protocol_fee_share: float  # protocol fees / rewards paid in the run
    oracle_fee_per_resolution_usd: float  # oracle fees / resolved in the run
    case_cost_per_resolution_usd: float  # the business case's price with the run's fees and gas
    escalations_per_year: float
    protocol_per_year_usd: float  # escalations per year x case cost per resolution
    team_per_year_low_usd: float
    team_per_year_high_usd: float
    team_per_ticket_low_usd: float  # team per year / tickets per year
    team_per_ticket_high_usd: float
    assumptions: list[str]  # the assumptions, as sentences to print beside the figures


def _mean_p95(values: Sequence[int]) -> tuple[float | None, float | None]:
    return (fmean(values), percentile(values, 95)) if values else (None, None)


def economics(report: OperationReport) -> Economics:
    """Computes the report's dollar figures with its own assumptions."""
    a, money, resolved = report.assumptions, report.money, report.tickets.resolved
    gas_mean, gas_p95 = _mean_p95(report.gas.per_paid_ticket)
    gas_each = gas_usd(gas_mean, a) if gas_mean is not None else None
    to_usd = a.usdc_usd / USDC
    measured = (
        money.spent * to_usd / resolved + (gas_each or 0.0) if resolved else None
    )  # rewards and fees of the whole run, over the tickets it resolved
    fee_share = money.protocol_fees / money.rewards_paid if money.rewards_paid else 0.0
    oracle_each = money.oracle_fees * to_usd / resolved if resolved else 0.0
    case_each = a.price_per_resolution_usd * (1 + fee_share) + oracle_each + (gas_each or 0.0)
    per_year = a.tickets_per_day * a.escalated_share * DAYS_PER_YEAR
    team_low = a.team_agents_low * a.salary_usd_low
    team_high = a.team_agents_high * a.salary_usd_high
    tickets_year = a.tickets_per_day * DAYS_PER_YEAR
    steps = [
        StepCost(step=step, transactions=len(gas), mean_gas=fmean(gas), mean_usd=gas_usd(fmean(gas), a))
        for step, gas in report.gas.per_step.items()
        if gas
    ]
    return Economics(
        paid_ticket_gas_mean=gas_mean, paid_ticket_gas_p95=gas_p95, paid_ticket_usd_mean=gas_each,
        steps=steps, measured_cost_per_resolution_usd=measured, protocol_fee_share=fee_share,
        oracle_fee_per_resolution_usd=oracle_each, case_cost_per_resolution_usd=case_each,
        escalations_per_year=per_year, protocol_per_year_usd=per_year * case_each,
        team_per_year_low_usd=team_low, team_per_year_high_usd=team_high,
        team_per_ticket_low_usd=team_low / tickets_year, team_per_ticket_high_usd=team_high / tickets_year,
        assumptions=assumption_lines(a),
    )  # fmt: skip


def assumption_lines(a: Assumptions) -> list[str]:
    """The assumptions in words, in the order the comparison uses them."""
    escalated = a.tickets_per_day * a.escalated_share
    return [
        f"Gas at {a.gas_gwei:g} gwei, POL at ${a.pol_usd:.2f}, 1 USDC = ${a.usdc_usd:.2f} "
        f"(prices: {a.prices_as_of}).",
        f"{a.tickets_per_day:,} tickets a day, {a.escalated_share:.0%} escalated: "
        f"{escalated:,.0f} a day, {escalated * DAYS_PER_YEAR:,.0f} a year.",
        f"A specialist gets ${a.price_per_resolution_usd:,.2f} per resolution; the protocol and oracle "
        "fees and the gas are this run's, per resolved ticket.",
        "Per year assumes every escalated ticket is paid (an upper bound: a refund costs only the "
        "oracle fee); the AI agent's own running cost is not included.",
        f"The team without the protocol: {a.team_agents_low}-{a.team_agents_high} full-time agents at "
        f"${a.salary_usd_low:,.0f}-${a.salary_usd_high:,.0f} a year each, handling every ticket.",
    ]
