"""The demo's run as the support manager's report (escalation.report): counts and reasons from the
simulation, times from the desk's callbacks, money and gas from the chain's logs."""

from typing import Any

from devtools.operation.ledger import Ledger
from devtools.operation.run import Escalated, Operation, Record
from escalation.report import (
    Assumptions,
    Dispute,
    Gas,
    Money,
    OperationReport,
    PeriodRate,
    ReasonCounts,
    RunParams,
    TicketCounts,
    TicketTiming,
)
from escalation.report.model import Ruling
from protocol_core.enums import RulingOption


def build_report(
    record: Record, ledger: Ledger, operation: Operation, pol_usd: float | None, gas_gwei: float | None
) -> OperationReport:
    """The report of one run."""
    hub, crew, jumps = operation.hub, operation.crew, operation.clock.jumps
    final = {e.desk_id: hub.latest(e.desk_id) for e in record.escalated}
    matched = sum(hub.first(e.desk_id, "accepted") is not None for e in record.escalated)
    options = record.options
    prices: dict[str, Any] = {
        k: v for k, v in (("pol_usd", pol_usd), ("gas_gwei", gas_gwei)) if v is not None
    }
    dispute = record.dispute
    disputes = []
    if "ruling" in dispute:
        ruling = Ruling.of(RulingOption[str(dispute["ruling"]).upper()])
        disputes.append(Dispute(ticket=str(dispute["ticket"]), opened_by="agent", ruling=ruling))
    weeks = record.tracker.per_week()
    return OperationReport(
        params=RunParams(
            tickets=options.tickets,
            seed=options.seed,
            speed=options.speed,
            simulated_days=options.days,
            wall_clock_s=round(record.wall_s, 1),
        ),
        tickets=TicketCounts(
            total=record.tickets,
            handled_by_ai=record.tickets - len(record.escalated),
            escalated=len(record.escalated),
            matched=matched,
            resolved=sum(s == "paid" for s in final.values()),
            refunded=sum(s == "refunded" for s in final.values()),
        ),
        reasons=ReasonCounts.tally(set(e.decision.triggers) for e in record.escalated),
        disputes=disputes,
        timings=[_timing(e, hub, jumps) for e in record.escalated],
        money=Money(
            rewards_paid=ledger.rewards_paid,
            refunds=ledger.refunds,
            oracle_fees=ledger.oracle_fees,
            protocol_fees=ledger.protocol_fees,
            slashes=ledger.oracle_slashed + ledger.arbitrator_penalties,
            arbitration_fees=ledger.arbitration_fees,
        ),
        gas=Gas(per_paid_ticket=ledger.gas_per_paid_job, per_step=ledger.gas_by_step),
        autonomy=[
            PeriodRate(period=f"week {i + 1}", tickets=w["tickets"], rate=w["autonomous_rate"])
            for i, w in enumerate(weeks)
        ],
        assumptions=Assumptions(**prices),
        notes=_notes(record, ledger, crew, operation),
    )


def _timing(job: Escalated, hub: Any, jumps: list[tuple[float, int]]) -> TicketTiming:
    """Seconds from escalation to acceptance and to payment as the run lived them; chain time the run
    moved forward in between is named (the challenge window, deadlines, arbitration phases)."""
    accepted, paid = hub.first(job.desk_id, "accepted"), hub.first(job.desk_id, "paid")

    def skipped(until: float | None) -> int:
        return 0 if until is None else sum(s for at, s in jumps if job.escalated_at <= at <= until)

    to_payment = None if paid is None else paid - job.escalated_at
    skip_paid = skipped(paid)
    return TicketTiming(
        ticket=str(job.item.ticket.id),
        to_acceptance_s=None if accepted is None else round(accepted - job.escalated_at, 3),
        to_payment_s=None if to_payment is None else round(to_payment + skip_paid, 3),
        skipped_to_acceptance_s=skipped(accepted), skipped_to_payment_s=skip_paid,
        skipped_for="chain time advanced past a challenge window or deadline" if skip_paid else "",
    )  # fmt: skip


def _notes(record: Record, ledger: Ledger, crew: Any, operation: Operation) -> list[str]:
    options = record.options
    notes = [
        f"Times are wall-clock seconds of this run on a local chain (anvil mines at once); each specialist's "
        f"work (10-40 simulated minutes) was compressed {options.speed:g}x.",
        f"The oracle nodes sent {ledger.node_transactions} transactions, "
        f"{ledger.reverted_node_transactions} reverted; the specialists sent {ledger.worker_transactions} "
        "(registered, hired and paid by signature).",
        f"{record.learned} verified resolutions went back to the escalation engine (the learning loop).",
    ]
    if ledger.oracle_slashed or ledger.arbitrator_penalties:
        notes.append(
            f"Slashes: {ledger.oracle_slashed / 1e6:.2f} USDC from oracle stakes, "
            f"{ledger.arbitrator_penalties / 1e6:.2f} USDC from arbitrators who did not vote with the ruling."
        )
    if record.dispute.get("skipped"):
        notes.append(str(record.dispute["skipped"]))
    elif record.dispute:
        d = record.dispute
        notes.append(
            f"Dispute #{d['dispute_id']} ({d['ticket']}): panel of {len(d['panel'])}, "
            f"{sum(d['opened'].values())} opened the case file the desk sealed to them; "
            f"ruling {d['ruling']}."
        )
    if record.skipped_s:
        notes.append(
            f"Chain time moved forward {record.skipped_s / 3600:.1f} h in all (dispute phases, deadlines)."
        )
    if crew.errors:
        notes.append(f"{len(crew.errors)} specialist step(s) failed; first: {crew.errors[0][:160]}")
    return notes
