"""The demo's jobs: posting an escalation with its signed evidence bundle, its verdict, the table."""

import time
from dataclasses import dataclass
from pathlib import Path

from ape import chain
from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from devtools.oracle_nodes import OracleNodes
from devtools.verdicts import Verdict
from protocol_core.enums import JobStatus
from protocol_core.evidence import Outcome, build_bundle
from protocol_core.languages import language_index
from protocol_core.terms import JobTerms, Requirements

USDC = 10**6
PAID, REFUNDED = JobStatus.PAID, JobStatus.REFUNDED

console = Console(width=max(Console().width, 120))


@dataclass(frozen=True)
class Escalation:
    """One ticket the AI agent could not resolve safely."""

    ticket: str
    language: str
    expertise: int
    certifications: int
    reward: int
    resolved: bool = True  # what the customer confirms; False: the nodes reject it as NOT_RESOLVED
    challenge_window: int = 0
    disputed_by_agent: bool = False  # the customer says the approved resolution did not happen


def post_job(escalation: Escalation, agent, workers, confirmer, system, evidence: Path) -> dict:
    """Posts one escalation, has its worker accept it and submit the customer's signed confirmation."""
    escrow, registry = system.escrow, system.registry
    requirements = Requirements(
        language=language_index(escalation.language),
        expertise=escalation.expertise,
        certifications=escalation.certifications,
    )
    name, worker = match(requirements, workers, registry)
    now = chain.pending_timestamp
    oracle_fee, protocol_fee = escrow.quote(escalation.reward)
    terms = JobTerms(
        agent=str(agent.address),
        reward=escalation.reward,
        confirmer=str(confirmer.address),
        oracle_fee=oracle_fee,
        protocol_fee=protocol_fee,
        offered_to=str(worker.address),
        accept_by=now + 900,
        resolve_by=now + 3600,
        challenge_window=escalation.challenge_window,
        spec_hash=keccak(text=escalation.ticket),
        requirements=requirements,
    )
    job_id = terms.digest()
    gas = escrow.postJob(terms.as_abi(), sender=agent).gas_used
    gas += escrow.acceptJob(terms.as_abi(), sender=worker).gas_used
    ticket = escalation.ticket.split()[0]
    bundle = build_bundle(
        confirmer.private_key,
        chain_id=chain.chain_id,
        escrow=str(escrow.address),
        job_id=job_id,
        ticket_ref=ticket,
        outcome=Outcome.RESOLVED if escalation.resolved else Outcome.UNRESOLVED,
        confirmed_at=now,
        summary=escalation.ticket,
    ).canonical()
    path = evidence / f"{job_id.hex()}.json"
    path.write_bytes(bundle)
    gas += escrow.submitEvidence(job_id, keccak(bundle), path.as_uri(), sender=worker).gas_used
    console.print(
        f"{escalation.ticket:<40} -> {name:<6} evidence {len(bundle)} bytes, "
        f"0x{keccak(bundle).hex()[:12]}… ({'resolved' if escalation.resolved else 'UNRESOLVED'})"
    )
    return {
        "ticket": escalation.ticket,
        "language": escalation.language,
        "worker": name,
        "reward": escalation.reward,
        "outcome": "awaiting verdict",
        "verdict": "",
        "reason": "",
        "attesters": [],
        "attested_by": "",
        "gas": gas,
        "terms": terms,
        "pending": False,
        "disputed_by_agent": escalation.disputed_by_agent,
        "submitted_at": time.monotonic(),
    }


def match(requirements: Requirements, workers: dict, registry) -> tuple[str, object]:
    """Off-chain matching: the first worker the registry finds eligible."""
    for name, account in workers.items():
        if registry.eligibility(account, requirements.as_abi()) == 0:
            return name, account
    raise SystemExit(f"no eligible worker for {requirements}")


def record_verdict(row: dict, verdict: Verdict, nodes: OracleNodes, escrow, blacklisted: str) -> None:
    """Puts the nodes' verdict and the job's resulting state into its row, and says so."""
    status = int(escrow.jobState(row["terms"].digest())[0])
    window = row["terms"].challenge_window
    outcome = {PAID: "paid", REFUNDED: "rejected, agent refunded"}.get(status, f"approved, window {window}s")
    if row["worker"] == blacklisted and status == PAID:
        outcome = "paid (credited: blacklisted)"
    attested_by = ", ".join(nodes.name_of(address) for address in verdict.attesters)
    if verdict.dissenters:
        attested_by += f" ({', '.join(nodes.name_of(a) for a in verdict.dissenters)} dissented)"
    verdict_text = f"{'approved' if verdict.approved else 'rejected'} {verdict.reason.name}"
    row.update(
        outcome=outcome,
        verdict="approved" if verdict.approved else "rejected",
        reason=verdict.reason.name,
        attesters=verdict.attesters,
        attested_by=attested_by,
        pending=status not in (PAID, REFUNDED),
        gas=row["gas"] + verdict.gas,
    )
    seconds = time.monotonic() - row["submitted_at"]
    console.print(
        f"{row['ticket'].split()[0]}  {verdict_text:<22} by {attested_by:<19} "
        f"{seconds:4.1f}s after submission -> {outcome}"
    )


def print_table(rows: list[dict]) -> None:
    """One row per escalation: who did the work, the nodes' verdict, how it ended, the gas it took."""
    table = Table(title="Escalations", expand=True)
    columns = (
        "ticket",
        "lang",
        "worker",
        "reward (USDC)",
        "verdict",
        "reason",
        "attested by",
        "outcome",
        "gas",
    )
    for column in columns:
        table.add_column(
            column,
            justify="right" if column in ("reward (USDC)", "gas") else "left",
            no_wrap=column in ("attested by", "reason"),
        )
    for row in rows:
        table.add_row(
            row["ticket"].split()[0],
            row["language"],
            row["worker"],
            f"{row['reward'] / USDC:.2f}",
            row["verdict"],
            row["reason"],
            row["attested_by"],
            row["outcome"],
            f"{row['gas']:,}",
        )
    paid = sum(r["reward"] for r in rows if r["outcome"].startswith("paid"))
    table.add_section()
    table.add_row(
        "total",
        "",
        "",
        f"{sum(r['reward'] for r in rows) / USDC:.2f}",
        "",
        "",
        "",
        f"{paid / USDC:.2f} paid",
        f"{sum(r['gas'] for r in rows):,}",
    )
    console.print(table)
