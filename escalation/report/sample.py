"""A built-in sample report with plausible figures, for the README's screenshot and the tests."""

import random

from escalation.models import Trigger
from escalation.report.model import (
    USDC,
    Dispute,
    Gas,
    Money,
    OperationReport,
    PeriodRate,
    ReasonCounts,
    Ruling,
    RunParams,
    TicketCounts,
    TicketTiming,
)

# Gas of each step as `make bench` measured it with the FiatToken-like USDC (bench/out/gas.json).
STEP_GAS = {"post with permit": 123_473, "accept, relayed": 51_431, "submitAndAttest 2-of-3": 119_373}
SETTLE_GAS = 77_357  # settle after a challenge window
CHALLENGE_WINDOW_S = 3_600
ORACLE_FEE, PROTOCOL_FEE_BPS, SLASH = 500_000, 100, 20_000_000


def sample_report(tickets: int = 2_000, seed: int = 7, days: int = 28) -> OperationReport:
    """A run of `tickets` over `days` simulated days whose AI escalates less as it learns."""
    rng = random.Random(seed)
    weeks = max(1, days // 7)
    autonomy, escalated_triggers = [], []
    for week in range(weeks):
        arrived = tickets // weeks + (1 if week < tickets % weeks else 0)
        share = 0.085 - 0.012 * week + rng.uniform(-0.004, 0.004)  # the learning loop at work
        handed = round(arrived * share)
        escalated_triggers += [_triggers(rng) for _ in range(handed)]
        autonomy.append(PeriodRate(period=f"week {week + 1}", tickets=arrived, rate=1 - handed / arrived))
    escalated = len(escalated_triggers)
    refunded = max(1, round(escalated * 0.06))
    matched = escalated - max(0, refunded // 3)
    resolved = escalated - refunded
    timings, rewards, gas = [], 0, []
    steps: dict[str, list[int]] = {name: [] for name in (*STEP_GAS, "settle")}
    for i in range(escalated):
        ticket = f"T-{10_000 + i}"
        accept = rng.lognormvariate(4.6, 0.7)  # about 100 s, a long tail
        if i >= resolved:
            timings.append(TicketTiming(ticket=ticket, to_acceptance_s=accept if i < matched else None))
            continue
        pay = accept + rng.lognormvariate(7.3, 0.5)  # about 25 min of work and verification
        windowed = rng.random() < 0.12
        ticket_gas = 0
        for name, used in STEP_GAS.items():
            steps[name].append(used + rng.randint(0, 40))
            ticket_gas += steps[name][-1]
        if windowed:
            pay += CHALLENGE_WINDOW_S
            steps["settle"].append(SETTLE_GAS)
            ticket_gas += SETTLE_GAS
        timings.append(TicketTiming(
            ticket=ticket, to_acceptance_s=accept, to_payment_s=pay,
            skipped_to_payment_s=CHALLENGE_WINDOW_S if windowed else 0,
            skipped_for="challenge window (chain time advanced)" if windowed else "",
        ))  # fmt: skip
        gas.append(ticket_gas)
        rewards += rng.choice((10, 15, 15, 15, 20, 25, 40)) * USDC
    refund_total = sum(rng.choice((10, 15, 20)) * USDC for _ in range(refunded))
    return OperationReport(
        params=RunParams(tickets=tickets, seed=seed, speed=600.0, simulated_days=days, wall_clock_s=212.4),
        tickets=TicketCounts(total=tickets, handled_by_ai=tickets - escalated, escalated=escalated,
                             matched=matched, resolved=resolved, refunded=refunded),
        reasons=ReasonCounts.tally(escalated_triggers),
        disputes=[Dispute(ticket="T-10003", opened_by="worker", ruling=Ruling.PAY_WORKER),
                  Dispute(ticket=f"T-{10_000 + escalated - 1}", opened_by="agent",
                          ruling=Ruling.REFUND_AGENT)],
        timings=timings,
        money=Money(rewards_paid=rewards, refunds=refund_total * (10_000 + PROTOCOL_FEE_BPS) // 10_000,
                    oracle_fees=escalated * ORACLE_FEE, protocol_fees=rewards * PROTOCOL_FEE_BPS // 10_000,
                    slashes=2 * SLASH, arbitration_fees=2 * 3 * 2 * USDC),
        gas=Gas(per_paid_ticket=gas, per_step=steps),
        autonomy=autonomy,
        notes=["Sample figures (escalation.report.sample), not a measured run."],
    )  # fmt: skip


def _triggers(rng: random.Random) -> set[Trigger]:
    first = rng.choices(list(Trigger), weights=(35, 30, 20, 15))[0]
    more = {t for t in Trigger if rng.random() < 0.08}
    return {first, *more}
